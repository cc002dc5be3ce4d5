"""The tone model as a local, Perspective-compatible HTTP service (`commonground api`)."""
