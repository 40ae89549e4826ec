"""Test kit for plugin authors (placeholder)."""
