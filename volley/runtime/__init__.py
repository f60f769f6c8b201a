"""Volley's runtime layer (see DESIGN.md)."""
