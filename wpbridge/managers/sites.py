"""`net.sites`: the network's sites with their membership links (`wu/v2/site`, and plugin-stub's
`wpbridge/v1/sites` where UM's own REST leaves the links out)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..errors import DataError, InvalidRequestError, WPBridgeError
from ..models import Site
from ..rest.transport import route
from .base import UM, Context
from .flavor import Flavor


class SiteManager:
    """The sites of one network, in blog_id order."""

    def __init__(self, ctx: Context, flavor: Callable[[], Flavor]) -> None:
        self._ctx = ctx
        self._flavor = flavor

    def list(self, *, membership_id: int | None = None, customer_id: int | None = None,
             **filters: Any) -> Iterator[Site]:
        """The sites (of a membership, of a customer). Each record is checked against the link filters here, so a
        filter the server ignored never widens the list (the safety invariant, DESIGN §3.3)."""
        found = self._flavor().list_sites(self, membership_id=membership_id, customer_id=customer_id,
                                          filters=filters)
        for site in found:
            if membership_id is not None and site.membership_id != membership_id:
                continue
            if customer_id is not None and site.customer_id != customer_id:
                continue
            yield site


    def get(self, blog_id: int) -> Site:
        """One site, as `wu/v2/site/{id}` gives it."""
        return self._ctx.um_one("site", blog_id, Site)

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /wu/v2/site: a new WordPress site (UM's own create, never sent twice blindly; an import creates
        through `net.imports` instead)."""
        return self._ctx.create("site", body)

    def count(self) -> int | None:
        """How many sites `wu/v2/site` lists (one tiny request); None when the server does not say."""
        return self._ctx.transport.get(route(UM, "site"), {"per_page": 1, "page": 1, "number": 1}).total

    def links_problem(self) -> str | None:
        """Why the sites' membership links cannot be read on this network (None: they can).

        Only a customer's site (typed customer-owned, or carrying a customer) whose membership is unknown is a
        problem, and a listing that cannot be read at all: a network with no customer site yet (a fresh UM
        network, whose sites UM never typed) is usable."""
        try:
            unread = [s.blog_id for s in self._link_candidates() if not s.is_main and s.membership_id is None
                      and (s.type == "customer_owned" or s.customer_id is not None)]
        except WPBridgeError as err:
            return f"site links cannot be read: {err}"
        if unread:
            more = f" and {len(unread) - 10} more" if len(unread) > 10 else ""
            shown = ", ".join(str(b) for b in unread[:10]) + more
            return (f"site links cannot be read: {self._flavor().sites_route} gives no membership for the customer "
                    f"site{'s' if len(unread) > 1 else ''} {shown}")
        return None

    def _link_candidates(self) -> Iterator[Site]:
        """The sites whose links the check must judge. On the companion's listing (UM mode) plugin-stub lists only
        the customer sites without a readable link (`unlinked=1`: one request however big the network, where the
        whole list cost a page per 100 sites before sync's walk read it again); an older plugin-stub that does not
        know the parameter (400) is read in full. The caller judges every row either way."""
        if self._flavor().sites_route != "GET /wpbridge/v1/sites":
            return self.list()
        try:
            rows = list(self._ctx.companion_rows("sites", params={"unlinked": 1}, id_key="blog_id"))
        except InvalidRequestError:
            return self.list()
        return (s for s in (self._ctx.tolerant(Site, r) for r in rows) if s is not None)

    # -- the flavor's two listings (`Flavor.list_sites` picks one)

    def from_um(self, filters: Mapping[str, Any]) -> Iterator[Site]:
        return self._ctx.um_list("site", Site, filters, id_key="blog_id")

    def from_companion(self, *, membership_id: int | None, customer_id: int | None,
                       filters: Mapping[str, Any]) -> Iterator[Site]:
        if filters:
            raise DataError(f"sites(): filters {sorted(filters)} are not available in UM mode")
        params = {"membership_id": membership_id, "customer_id": customer_id}
        rows = self._ctx.companion_rows("sites", params={k: v for k, v in params.items() if v is not None},
                                        id_key="blog_id")
        return (s for s in (self._ctx.tolerant(Site, r) for r in rows) if s is not None)
