"""Importers, one module a format, each turning a file into normalised ``Item``s with their line."""
