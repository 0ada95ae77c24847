"""Every table, gathered so Alembic and the tests see the whole schema."""

from guarantor.analysis.models import AnalysisPersonRecord, AnalysisRecord
from guarantor.db.base import Base
from guarantor.guarantees.models import AlertRecord, Claim, Measurement, OutcomeStateRecord
from guarantor.work.models import LinkDecision, WorkItem

metadata = Base.metadata

__all__ = [
    "AlertRecord",
    "AnalysisPersonRecord",
    "AnalysisRecord",
    "Claim",
    "LinkDecision",
    "Measurement",
    "OutcomeStateRecord",
    "WorkItem",
    "metadata",
]
