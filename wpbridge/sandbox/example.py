"""The example network's catalog, in Ultimate Multisite's wire shape (DESIGN.md §3.1).

One definition shared by the seeder (`wpbridge sandbox up --seed example`, which creates these products through
the REST API and maps slugs to the ids the server gives) and by offline demos and tests. Product slugs are pinned.
`available_addons` holds slugs here; `example_catalog()` resolves them to the ids given below.
"""

from __future__ import annotations

from typing import Any

from ..models import Product, parse


def _quota(number: int) -> dict[str, Any]:
    return {"enabled": True, "number": number}


def _not_allowed() -> dict[str, Any]:
    return {"enabled": False, "number": 0}


EXAMPLE_PRODUCTS: list[dict[str, Any]] = [
    {
        "slug": "free",
        "name": "Free",
        "type": "plan",
        "pricing_type": "free",
        "amount": "0",
        "setup_fee": "0",
        "recurring": False,
        "duration": 1,
        "duration_unit": "month",
        "product_group": "High End",
        "list_order": 1,
        "available_addons": ["unlimited-visits", "extra-storage", "site-setup"],
        "limitations": {
            "disk_space": {"enabled": True, "limit": 100},
            "post_types": {"enabled": True, "limit": {"post": _quota(10), "page": _quota(5)}},
            "users": {"enabled": True, "limit": {"administrator": _quota(1), "editor": _not_allowed()}},
            "visits": {"enabled": True, "limit": 1000},
            "sites": {"enabled": True, "limit": 1},
            "domain_mapping": {"enabled": True, "limit": False},
        },
    },
    {
        "slug": "basic",
        "name": "Basic",
        "type": "plan",
        "pricing_type": "paid",
        "amount": "15",
        "setup_fee": "0",
        "recurring": True,
        "duration": 1,
        "duration_unit": "month",
        "product_group": None,
        "list_order": 2,
        "available_addons": ["extra-storage", "site-setup"],
        "limitations": {
            "disk_space": {"enabled": True, "limit": 1000},
            "post_types": {"enabled": True, "limit": {"post": _quota(100), "page": _quota(20)}},
            "users": {"enabled": True, "limit": {"administrator": _quota(1), "editor": _quota(3)}},
            "visits": {"enabled": True, "limit": 10000},
            "sites": {"enabled": True, "limit": 2},
            "domain_mapping": {"enabled": True, "limit": 1},
        },
    },
    {
        "slug": "premium",
        "name": "Premium",
        "type": "plan",
        "pricing_type": "paid",
        "amount": "39",
        "setup_fee": "0",
        "recurring": True,
        "duration": 1,
        "duration_unit": "month",
        "product_group": "High End",
        "list_order": 3,
        "price_variations": [{"duration": 1, "duration_unit": "year", "amount": "390"}],
        "available_addons": ["unlimited-visits", "extra-storage", "site-setup"],
        "limitations": {
            "disk_space": {"enabled": True, "limit": 5000},
            "post_types": {"enabled": True, "limit": {"post": _quota(1000), "page": _quota(100)}},
            "users": {
                "enabled": True,
                "limit": {"administrator": _quota(2), "editor": _quota(10), "author": _quota(10)},
            },
            "visits": {"enabled": True, "limit": 100000},
            "sites": {"enabled": True, "limit": 5},
            "domain_mapping": {"enabled": True, "limit": True},
        },
    },
    {
        "slug": "unlimited-visits",
        "name": "Unlimited visits",
        "type": "package",
        "pricing_type": "paid",
        "amount": "9",
        "recurring": True,
        "duration": 1,
        "duration_unit": "month",
        "list_order": 10,
        "limitations": {"visits": {"enabled": True, "limit": 0}},
    },
    {
        "slug": "extra-storage",
        "name": "Extra storage",
        "type": "package",
        "pricing_type": "paid",
        "amount": "5",
        "recurring": True,
        "duration": 1,
        "duration_unit": "month",
        "list_order": 11,
        "limitations": {"disk_space": {"enabled": True, "limit": 1000}},
    },
    {
        "slug": "site-setup",
        "name": "Site setup",
        "type": "service",
        "pricing_type": "paid",
        "amount": "49",
        "recurring": False,
        "duration": 1,
        "duration_unit": "month",
        "list_order": 12,
        "limitations": {},
    },
]


def example_catalog() -> list[Product]:
    """The example catalog as models, with ids 1..6 in the order above (what a fresh sandbox assigns)."""
    ids = {p["slug"]: i for i, p in enumerate(EXAMPLE_PRODUCTS, start=1)}
    return [
        parse(Product, {**p, "id": ids[p["slug"]], "available_addons": [ids[s] for s in p.get("available_addons", [])]})
        for p in EXAMPLE_PRODUCTS
    ]
