"""``python -m app`` serves the app, like ``rapport serve`` (options pass through)."""

import sys

from app.cli import cli

if __name__ == "__main__":
    cli(["serve", *sys.argv[1:]])
