"""Tests of the model backends."""
