"""Rapport under model faults, crashes and load."""
