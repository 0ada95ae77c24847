"""The HTML report: one self-contained file, charts drawn as inline SVG, nothing fetched to view it."""
