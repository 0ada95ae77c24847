"""Data sources, one module each, registered by name (``type:`` in the workspace file).

To add one: a module with a pydantic spec (``type: Literal["name"]``) and a factory registered with
``register("name", Spec)``, imported here; the workspace schema picks it up from SourceSpec.
"""

from typing import Annotated

from pydantic import Field

from guarantor.guarantees.sources import command, file, http, prometheus, sql
from guarantor.guarantees.sources.base import REGISTRY, Context, Reading, Source, SourceError

SourceSpec = Annotated[
    sql.SqlSpec | http.HttpSpec | file.FileSpec | prometheus.PrometheusSpec | command.CommandSpec,
    Field(discriminator="type"),
]

__all__ = ["REGISTRY", "Context", "Reading", "Source", "SourceError", "SourceSpec"]
