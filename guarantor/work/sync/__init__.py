"""Live sync from trackers' APIs: a driver that pages, waits out rate limits and stores each page
with its cursor in one transaction, and one module a tracker (GitHub, Jira, Linear) that says how
to ask for what changed and how to read the answer, registered by name in ``trackers.TRACKERS``."""
