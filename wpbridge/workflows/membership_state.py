"""The membership as it will be after a change: ONE rule, used by `change` (a quote's target) and `sync` (a due
scheduled change, for the dry-run preview and the rerun check).

Pure (no I/O). Why `exclude_unset`: the limitations merge (limits.py) tells a module the membership never set
(the plan's quota applies) from one set to nothing (override mode). Dumping every field, as `model_dump(mode=
"json")` does, turns each unset override module into an explicit None, and the plan's whole quota disappears
from the result (issue 11, item 17: `sync --dry-run` previewed a due downgrade as "would write {}").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models import Membership, parse


def with_state(membership: Membership, state: Mapping[str, Any]) -> Membership:
    """The membership with `state` (UM field names, wire values) applied, validated by the model; fields `state`
    does not name keep exactly what the membership holds, including what it left unset. A `state` that does not
    fit the model raises DataError naming the field."""
    if not state:
        return membership
    return parse(Membership, {**membership.model_dump(exclude_unset=True), **state, "id": membership.id})
