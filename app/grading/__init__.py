"""Grading: rubric files, deterministic signals, the LLM judge and session reports."""
