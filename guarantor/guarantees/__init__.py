"""Guarantees: outcome indicators measured from real data sources, with history and statuses."""
