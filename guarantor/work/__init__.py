"""Work to value: work items from trackers, linked to the outcomes they serve, and where effort goes."""
