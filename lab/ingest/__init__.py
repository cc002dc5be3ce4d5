"""Ingest speed, measured (lab bench section)."""
