"""commonground: find common ground in healthcare conversations online (flows and CLI)."""
