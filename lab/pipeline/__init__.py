"""The pipeline end to end, measured (lab bench sections)."""
