"""Every table, gathered so Alembic and the tests see the whole schema."""

from guarantor.analysis.models import AnalysisPersonRecord, AnalysisRecord
from guarantor.db.base import Base
from guarantor.guarantees.models import Claim, Measurement

metadata = Base.metadata

__all__ = ["AnalysisPersonRecord", "AnalysisRecord", "Claim", "Measurement", "metadata"]
