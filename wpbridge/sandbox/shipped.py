"""The files the sandbox ships inside the package: the recipe (PHP install scripts, router, must-use plugins).

Its own module so that the modules installing them (`wordpress`, `um`) share it without importing each other.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def recipe_file(name: str) -> Path:
    """A file of the recipe shipped inside the package (works from a wheel and from a checkout)."""
    return Path(str(resources.files("wpbridge.sandbox") / "recipe" / name))
