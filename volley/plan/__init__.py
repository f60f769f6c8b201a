"""Volley's plan layer (see DESIGN.md)."""
