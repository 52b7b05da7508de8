"""Ultimate Multisite releases: which behaviour a network's UM version has (pure; one place for the comparison).

Pricing (`billing/umcart.py`) and the limits merge (`limits.py`) both follow the release the network runs; both
read it here, so neither imports the other.
"""

from __future__ import annotations

from functools import lru_cache

LATEST_RELEASE = "2.4.12"
RELEASES = ("2.4.12", "2.4.13-beta.1")


@lru_cache(maxsize=64)
def is_main(version: str | None) -> bool:
    """Does `version` have UM main's add-on carts and zero-decimal rounding (2.4.13 and later)?"""
    if version is None:
        return False
    parts: list[int] = []
    for piece in version.split("-", 1)[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts[:3]) >= (2, 4, 13)
