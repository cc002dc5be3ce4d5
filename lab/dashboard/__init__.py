"""Dashboard query speed, measured (lab bench section)."""
