"""`net.domains`: the domains mapped to the network's sites (Ultimate Multisite's Domain records; issue 22).

Read and written through UM's own REST (`wu/v2/domain`), which gives every field: measured on UM 2.4.12 it sends
every value as a string ("1"/"0" flags, ids), answers a domain that is taken or not a domain with a 500 (code
`domain`; not retried) and accepts a `blog_id` with no site behind it. So a write sends only a blog id wpbridge has
read or created as the target, and every reply is checked: the record it names must be the domain asked for, on
the site asked for, with the fields sent. plugin-stub alone keeps no mapped domains: `all()` is empty there and
nothing is written (`Flavor.keeps_mapped_domains`).

UM acts on a new Domain record as its own screens do (`wu_create_domain`): its hosting integrations are told of the
domain (`wu_transition_domain_domain`) and its DNS and certificate checks run for a record whose stage says so (a
record written as `done` is not checked again).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import DataError
from ..mapped_domains import MappedDomain
from ..models import parse
from ..rest.transport import route
from .base import UM, Context, as_dict
from .flavor import Flavor

WRITTEN = ("active", "primary_domain", "secure", "stage")
"""What a write sets besides the domain and its site (an update never moves a domain to another site)."""


class DomainManager:
    """The mapped domains of one network (`Network.domains`)."""

    def __init__(self, ctx: Context, flavor: Callable[[], Flavor]) -> None:
        self._ctx = ctx
        self._flavor = flavor

    @property
    def kept(self) -> bool:
        """True when the network keeps mapped domains (UM); False: none, and none can be written."""
        return self._flavor().keeps_mapped_domains

    def all(self) -> list[MappedDomain]:
        """Every mapped domain, by id (`GET /wu/v2/domain`, paged); none on a network without UM."""
        if not self.kept:
            return []
        return sorted(self._ctx.um_list("domain", MappedDomain, {}), key=lambda d: d.id or 0)

    def find(self, domain: str) -> MappedDomain | None:
        """The record of `domain` (compared without case, as hosts are), or None."""
        wanted = domain.strip().lower()
        return next((d for d in self.all() if d.domain == wanted), None)

    def create(self, blog_id: int, domain: str, fields: Mapping[str, Any]) -> MappedDomain:
        """`POST /wu/v2/domain` for the site `blog_id` (one the caller has read or created: UM does not check it).
        After a try with an unknown outcome the domain is looked up first, so it is never created twice."""
        body = {"blog_id": blog_id, "domain": domain.strip().lower(), **{k: fields[k] for k in WRITTEN if k in fields}}

        def lookup() -> dict[str, Any] | None:
            found = self.find(domain)
            return found.model_dump(mode="json") if found is not None else None

        reply = self._ctx.transport.create(route(UM, "domain"), body, lookup=lookup)
        return checked(body, as_dict(reply))

    def update(self, domain_id: int, current: MappedDomain, fields: Mapping[str, Any]) -> MappedDomain:
        """`PUT /wu/v2/domain/{id}`: the flags and stage given (absolute, safe to resend); never its site or name,
        which must still be `current`'s."""
        body = {k: fields[k] for k in WRITTEN if k in fields}
        reply = self._ctx.transport.request("PUT", route(UM, "domain", domain_id), json_body=body, idempotent=True)
        return checked({"blog_id": current.blog_id, "domain": current.domain, **body}, as_dict(reply.data))


def checked(sent: Mapping[str, Any], reply: Mapping[str, Any]) -> MappedDomain:
    """The record UM answered, which must be the one asked for with what was sent (else a DataError naming it)."""
    got = parse(MappedDomain, reply)
    where = f"domain {sent.get('domain')}"
    if got.domain != str(sent["domain"]).lower() or got.blog_id != int(sent["blog_id"]):
        raise DataError(f"{where}: the network answered with {got.domain} on site {got.blog_id}, not on site"
                        f" {sent['blog_id']}; nothing else was written for it", field="blog_id")
    for key in WRITTEN:
        if key in sent and getattr(got, key) != sent[key]:
            raise DataError(f"{where}: {key} reads {getattr(got, key)!r} after the write, not {sent[key]!r}",
                            field=key)
    return got
