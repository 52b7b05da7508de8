"""The wire model of a domain mapped to a site (UM's Domain record, `wu/v2/domain`; `net.domains`, issue 22).

Beside `models.py` as `payment_models.py` is: the records of one resource that only its manager, the export and the
import use.
"""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from .models import PhpBool, WireModel

DomainStage = Literal["checking-dns", "checking-ssl-cert", "done-without-ssl", "done", "failed", "ssl-failed"]
"""UM's Domain stages (`Domain::validation_rules()`): where its DNS and certificate checks are."""


class MappedDomain(WireModel):
    """A domain of its own mapped to a site: Ultimate Multisite's Domain record (`wu/v2/domain`, which sends every
    value as a string: ids, "1"/"0" flags). UM's sunrise serves the site on it while it is active."""

    id: int | None = None
    blog_id: int
    domain: str
    active: PhpBool = True
    primary_domain: PhpBool = False
    secure: PhpBool = False
    stage: DomainStage = "checking-dns"

    @field_validator("domain")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()
