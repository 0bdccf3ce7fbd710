"""``python -m app`` serves the app, like ``rapport serve``."""

from app.cli import cli

if __name__ == "__main__":
    cli(["serve"])
