"""Choices the faces of task intelligence offer, kept free of the model's imports so that a
command's options cost nothing until it runs."""

from __future__ import annotations

from enum import StrEnum


class Reading(StrEnum):
    """How the model reads a role's tasks (``--model``)."""

    role = "role"
    """Each task among the role's other tasks, with the occupation's observed AI use: the default."""
    text = "text"
    """Each statement alone, as bulk ``classify`` does."""
