"""Volley's physical layer (see DESIGN.md)."""
