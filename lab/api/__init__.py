"""The Perspective-compatible service under load on loopback."""
