"""Every version of a workspace the web app has seen or written, newest last.

The YAML file stays the source of truth; this table is its history in the database, with who
changed what from the browser, and it is what lets several server processes agree on the
current version without each reparsing the file on every request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from guarantor.db.base import Base, UTCDateTime


class WorkspaceRevision(Base):
    __tablename__ = "workspace_revisions"
    __table_args__ = (Index("ix_workspace_revisions_path", "path", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(1000))  # the workspace file's absolute path
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    origin: Mapped[str] = mapped_column(String(8))  # file (read from disk) | web | api
    author: Mapped[str | None] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))  # of the text, to see when the file changed
    text: Mapped[str] = mapped_column(Text)
