"""Benchmarks that show what Rapport adds to the model's own speed."""
