"""Rapport: practise either side of the interview table against an AI, with every turn graded."""

__version__ = "0.1.0"
