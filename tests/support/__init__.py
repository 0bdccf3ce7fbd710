"""Test support: the fault-injecting OpenAI-compatible server and its pytest fixtures, apps
served in-process, real server processes, and empty databases."""
