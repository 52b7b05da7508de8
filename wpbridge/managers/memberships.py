"""`net.memberships`: the network's memberships (`wu/v2/membership`), in UM mode with each one's own override
(UM's membership meta `wu_limitations`, which UM's REST returns empty) from plugin-stub's
`wpbridge/v1/memberships/limitations`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..errors import DataError, NotFound
from ..models import Limitations, LimitationsField, Membership, WireModel, parse
from ..rest.transport import route
from .base import CHUNK, COMPANION, UM, Context, batches, chunks, joined
from .flavor import Flavor

OVERRIDES_ROUTE = "GET /wpbridge/v1/memberships/limitations"


class MembershipOverride(WireModel):
    """One row of `GET /wpbridge/v1/memberships/limitations` (UM mode): a membership's own override, UM's membership
    meta `wu_limitations` (`{}`/`[]`/null: none stored), or why the stored value cannot be read."""

    membership_id: int
    limitations: LimitationsField | None = None
    unreadable: str | None = None


def membership_override(row: Any) -> tuple[int | None, Limitations | DataError]:
    """Read one override row tolerantly, as the catalog's limitations are read (JSON-string modules, `""` limits,
    `[]` for an empty set). A row the server marks unreadable, or whose limitations do not fit, gives a DataError
    naming the membership and the field: never "no override"."""
    mid = row.get("membership_id") if isinstance(row, Mapping) else None
    if isinstance(mid, str) and mid.strip().isdigit():
        mid = int(mid)
    mid = mid if isinstance(mid, int) and not isinstance(mid, bool) else None
    where = f"Membership {mid}" if mid is not None else "Membership"
    try:
        got = parse(MembershipOverride, row)
    except DataError as err:  # "MembershipOverride: field 'limitations.x': <reason> (got ...)"
        detail = err.message.split(": ", 1)[-1]
        return mid, DataError(f"{where}: its own override (UM membership meta wu_limitations) cannot be read: "
                              f"{detail}", field=err.field or "limitations", record_id=mid)
    if got.unreadable:
        return got.membership_id, DataError(
            f"{where}: field 'limitations': its own override (UM membership meta wu_limitations) cannot be read: "
            f"{got.unreadable}", field="limitations", record_id=got.membership_id)
    return got.membership_id, got.limitations or Limitations()


def membership_route(membership_id: int) -> str:
    """The route of one membership (`PUT` writes its absolute state)."""
    return route(UM, "membership", membership_id)


class MembershipManager:
    """The memberships of one network."""

    def __init__(self, ctx: Context, flavor: Callable[[], Flavor]) -> None:
        self._ctx = ctx
        self._flavor = flavor

    def list(self, *, status: str | Iterable[str] | None = None, customer_id: int | None = None,
             **filters: Any) -> Iterator[Membership]:
        """Memberships in id order. UM mode: each with its own override, 100 memberships per request; one whose
        override cannot be read is left out and remembered in `unreadable` (by id and field), like any record
        that cannot be read."""
        found = self._ctx.um_list("membership", Membership, {"status": status, "customer_id": customer_id,
                                                             **filters})
        return self._flavor().complete_memberships(found, self)


    def get(self, membership_id: int) -> Membership:
        """One membership; in UM mode with its own override (DataError when that cannot be read)."""
        return self._flavor().complete_membership(self._ctx.um_one("membership", membership_id, Membership), self)

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /wu/v2/membership (UM's own create; an import creates through `net.imports` instead)."""
        return self._ctx.create("membership", body)

    def update(self, membership_id: int, state: Mapping[str, Any]) -> Membership:
        """PUT the membership's absolute target state (safe to resend, hence retried)."""
        data = self._ctx.transport.request("PUT", membership_route(membership_id), json_body=dict(state)).data
        return parse(Membership, data)

    def overrides(self, membership_ids: Iterable[int]) -> dict[int, Limitations | DataError]:
        """UM mode: each membership's own override, 100 ids per request. A membership the server does not know
        is left out; one whose stored override cannot be read maps to a DataError naming it and the field."""
        out: dict[int, Limitations | DataError] = {}
        for chunk in chunks(membership_ids, CHUNK):
            try:
                data = self._ctx.transport.get(route(COMPANION, "memberships", "limitations"),
                                               {"membership_ids": joined(chunk)}).data
            except NotFound as exc:
                raise DataError(f"memberships' own overrides cannot be read: {OVERRIDES_ROUTE} is missing ({exc}); "
                                "update plugin-stub on this network", field="limitations") from None
            rows = data.get("limitations") if isinstance(data, dict) else None
            if not isinstance(rows, list):
                raise DataError(f"{OVERRIDES_ROUTE}: expected {{\"limitations\": [...]}}, got {type(data).__name__}",
                                field="limitations")
            for row in rows:
                mid, got = membership_override(row)
                if mid is not None:
                    out[mid] = got
                else:
                    self._ctx.unreadable.append(got if isinstance(got, DataError) else DataError(
                        f"{OVERRIDES_ROUTE}: a row without a membership_id", field="membership_id"))
        return out

    # -- what the UM flavor adds (`Flavor.complete_memberships`)

    def with_overrides(self, found: Iterable[Membership]) -> Iterator[Membership]:
        for chunk in batches(found, CHUNK):
            overrides = self.overrides(m.id for m in chunk)
            for membership in chunk:
                got = overrides.get(membership.id, _override_missing(membership.id))
                if isinstance(got, DataError):
                    self._ctx.unreadable.append(got)
                    continue
                yield membership.model_copy(update={"limitations": got})

    def with_override(self, found: Membership) -> Membership:
        got = self.overrides([found.id]).get(found.id, _override_missing(found.id))
        if isinstance(got, DataError):
            raise got
        return found.model_copy(update={"limitations": got})


def _override_missing(membership_id: int) -> DataError:
    return DataError(f"Membership {membership_id}: field 'limitations': its own override (UM membership meta "
                     f"wu_limitations) was not returned by {OVERRIDES_ROUTE}", field="limitations",
                     record_id=membership_id)
