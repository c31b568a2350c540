"""Shared foundations: ids, wire models, limits, errors, clock, config (stdlib + pydantic only)."""
