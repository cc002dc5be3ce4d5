"""The seeded synthetic sample conversation bundled in data/sample."""
