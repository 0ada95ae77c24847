"""Legacy systems: the running systems that deliver today's value, and when one may be retired."""
