"""Data sources: one module per platform, all yielding the same records."""
