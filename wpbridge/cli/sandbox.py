"""`wpbridge sandbox` commands (being built)."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Add this family's commands to the top-level group."""
