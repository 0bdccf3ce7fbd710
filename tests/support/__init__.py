"""Test support: the fault-injecting OpenAI-compatible server and its pytest fixtures."""
