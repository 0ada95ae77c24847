"""The value plan: assembles facts from the other domains into one saved analysis."""
