"""The workspace file (guarantor.yaml): people, tasks, outcomes and value propositions as code."""

DEFAULT_NAME = "guarantor.yaml"
