"""Volley's udf layer (see DESIGN.md)."""
