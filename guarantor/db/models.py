"""Every table, gathered so Alembic and the tests see the whole schema."""

from guarantor.accounts.models import ApiToken, LoginFailure, User, WebSession
from guarantor.analysis.models import AnalysisPersonRecord, AnalysisRecord
from guarantor.db.base import Base
from guarantor.guarantees.models import AlertRecord, Claim, Measurement, OutcomeStateRecord
from guarantor.work.models import LinkDecision, WorkItem, WorkLink
from guarantor.workspace.models import WorkspaceRevision

metadata = Base.metadata

__all__ = [
    "AlertRecord",
    "AnalysisPersonRecord",
    "AnalysisRecord",
    "ApiToken",
    "Claim",
    "LinkDecision",
    "LoginFailure",
    "Measurement",
    "OutcomeStateRecord",
    "User",
    "WebSession",
    "WorkItem",
    "WorkLink",
    "WorkspaceRevision",
    "metadata",
]
