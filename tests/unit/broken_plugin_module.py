"""Imported by tests as a class path: fails at import like a broken plugin."""

raise ImportError("No module named 'missing_dependency'")
