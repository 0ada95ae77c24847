"""Guarantor: from the tasks AI takes over to the outcomes people guarantee."""

__version__ = "0.1.0"
