"""Volley's runners layer (see DESIGN.md)."""
