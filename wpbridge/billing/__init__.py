"""The pricing engine: which plan changes a membership may make and what they cost, as Ultimate Multisite does.

Pure: no I/O and no clock (`now` is a parameter). Imports only wpbridge.models, wpbridge.money, wpbridge.errors,
the standard library, pydantic and dateutil.
"""

from __future__ import annotations

from ..um_release import LATEST_RELEASE, RELEASES
from .cart import Cart
from .catalog import CatalogIndex
from .eligibility import (
    AddonOption,
    ChangeOptions,
    PeriodOption,
    PeriodPrice,
    PlanOption,
    change_options,
    offered_addons,
    offered_periods,
    offered_plans,
)
from .periods import add_period, days_in_cycle, per_day
from .quote import NO_CHANGE_MESSAGE, POLICIES, quote_change
from .result import Deviation, Quote, QuoteError, QuoteLine
from .taxes import TaxLocation, TaxRate, TaxSettings, renewal_tax_location, tax_location

__all__ = [
    "LATEST_RELEASE",
    "NO_CHANGE_MESSAGE",
    "POLICIES",
    "RELEASES",
    "AddonOption",
    "Cart",
    "CatalogIndex",
    "ChangeOptions",
    "Deviation",
    "PeriodOption",
    "PeriodPrice",
    "PlanOption",
    "Quote",
    "QuoteError",
    "QuoteLine",
    "TaxLocation",
    "TaxRate",
    "TaxSettings",
    "add_period",
    "change_options",
    "days_in_cycle",
    "offered_addons",
    "offered_periods",
    "offered_plans",
    "per_day",
    "quote_change",
    "renewal_tax_location",
    "tax_location",
]
