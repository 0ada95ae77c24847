"""The O*NET data: where it is, whether it is whole, where it came from, how to get it."""
