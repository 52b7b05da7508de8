"""`wpbridge export` of discount codes (issue 19), and a snapshot's codes offline.

An export holds every code of the network with every field (section `discount_codes`, read through
`net.discount_codes`: UM's REST reads `allowed_products` null) and gives each membership its own code as the code
(`"discount_code": "SAVE10"`, or null), read through the companion (UM's REST reads it null; the stub's gives the
code's object). A snapshot written before codes were exported has no section: its `discount_codes` is None.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator

from ..managers.discount_codes import find_code, get_code
from ..models import DiscountCode, Membership
from . import NetworkReader


def memberships_with_codes(network: NetworkReader) -> Iterator[Membership]:
    """The memberships, each with its own code as the code (None: none); a source that holds no codes (an old
    snapshot): the memberships as listed."""
    codes = network.discount_codes
    if codes is None:
        yield from network.memberships.list()
        return
    held = codes.membership_codes()
    for m in network.memberships.list():
        yield m.model_copy(update={"discount_code": held.get(m.id)})


def codes_of(network: NetworkReader) -> Iterable[DiscountCode] | None:
    """Every code of the source, or None when it holds none (an old snapshot)."""
    return network.discount_codes.all() if network.discount_codes is not None else None


class SnapshotDiscountCodes:
    """`snapshot.discount_codes`: the codes of a snapshot, read like `net.discount_codes`."""

    def __init__(self, codes: Iterable[DiscountCode], memberships: Iterable[Membership]) -> None:
        self._codes = sorted(codes, key=lambda c: c.id or 0)
        self._members: dict[int, str] = {}
        for m in memberships:
            own = m.discount_code
            name = own.code if isinstance(own, DiscountCode) else own
            if name:
                self._members[m.id] = name

    def all(self) -> builtins.list[DiscountCode]:
        return list(self._codes)

    def find(self, code: str) -> DiscountCode | None:
        return find_code(self._codes, code)

    def get(self, ref: str | int) -> DiscountCode:
        return get_code(self._codes, ref)

    def membership_codes(self) -> dict[int, str]:
        return dict(self._members)
