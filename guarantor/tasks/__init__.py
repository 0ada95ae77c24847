"""Task intelligence: the occupation catalogue, the exposure model, and role profiles."""
