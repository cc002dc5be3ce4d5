"""Pure analysis, no I/O: text, tone, network (echo chambers) and constructive voices."""
