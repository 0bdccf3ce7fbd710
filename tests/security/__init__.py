"""Rapport against hostile input, injection and unauthorised callers."""
