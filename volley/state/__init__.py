"""Volley's state layer (see DESIGN.md)."""
