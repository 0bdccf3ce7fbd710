"""Fixtures for the model backend tests.

The fault server's fixtures live in tests.support.fixtures; the root conftest can register
them for the whole suite with ``pytest_plugins = ["tests.support.fixtures"]``. Importing
them here keeps this folder working either way (pytest allows pytest_plugins only at the root).
"""

from __future__ import annotations

from tests.support.fixtures import _fake_openai_server, fake_openai

__all__ = ["_fake_openai_server", "fake_openai"]
