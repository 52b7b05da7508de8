"""`wpbridge import` never turns a row into something its author surely did not mean without a word (issue 21,
item 5): a recurring membership without `date_expiration` is a warning of the plan (the network would make it
expire at once), and a row whose currency is not its plan's currency is refused, naming the row and both
currencies, unless `--allow-currency-mismatch` (then it is a warning)."""

from __future__ import annotations

import json

from tests.unit.test_import_input import CATALOG, export
from wpbridge.workflows.importer_input import check_references, read_csv, read_json

NO_EXPIRY = "warning: date_expiration is not given for a recurring membership"


def test_a_recurring_csv_row_without_an_expiration_is_a_warning_not_an_error() -> None:
    src = read_csv("email,plan,date_expiration\nann@example.com,basic,\nbob@example.com,basic,2026-12-01\n"
                   "cy@example.com,free,\n")
    check_references(src, CATALOG)
    assert src.issues == []  # a warning refuses nothing
    assert [str(w) for w in src.warnings] == [
        "line 2: " + NO_EXPIRY + " (basic, 1:month): the network sets it to the time of the import (Ultimate"
        " Multisite's default), so it expires at once; give the date its paid period ends"]
    assert src.warnings[0].field == "date_expiration"


def test_a_recurring_json_membership_without_an_expiration_is_a_warning() -> None:
    data = export(memberships=[{"id": 7, "customer_id": 1, "plan_id": 3, "addon_products": {}, "amount": "49",
                                "recurring": True, "status": "active", "date_expiration": None}])
    src = read_json(json.dumps(data))
    check_references(src, CATALOG)
    assert src.issues == []
    assert [w.where for w in src.warnings] == ["memberships[0] (id 7)"]
    assert NO_EXPIRY in str(src.warnings[0])


def test_a_row_in_another_currency_than_its_plan_is_refused_naming_both() -> None:
    src = read_csv("email,plan,amount,currency,date_expiration\nann@example.com,basic,1500,JPY,2026-12-01\n"
                   "bob@example.com,basic,15,USD,2026-12-01\n")
    check_references(src, CATALOG)
    assert [str(i) for i in src.issues] == [
        "line 2: currency JPY is not the currency of plan 'basic' (USD): a later quote would compare JPY amounts"
        " with USD prices; convert the amounts, or pass --allow-currency-mismatch to import it as JPY"]
    assert src.issues[0].field == "currency" and not src.memberships[0].valid and src.memberships[1].valid


def test_a_json_membership_in_another_currency_is_refused_too() -> None:
    data = export(memberships=[{"id": 7, "customer_id": 1, "plan_id": 3, "addon_products": {}, "amount": "4900",
                                "currency": "JPY", "status": "active", "date_expiration": "2026-12-01 00:00:00"}])
    src = read_json(json.dumps(data))
    check_references(src, CATALOG)
    assert [(i.where, i.field) for i in src.issues] == [("memberships[0] (id 7)", "currency")]
    assert "JPY" in src.issues[0].message and "(USD)" in src.issues[0].message


def test_the_flag_lets_a_currency_mismatch_through_as_a_warning() -> None:
    src = read_csv("email,plan,amount,currency,date_expiration\nann@example.com,basic,1500,JPY,2026-12-01\n")
    check_references(src, CATALOG, allow_currency_mismatch=True)
    assert src.issues == [] and src.memberships[0].valid
    assert [str(w) for w in src.warnings] == [
        "line 2: warning: currency JPY is not the currency of plan 'basic' (USD); imported as JPY"
        " (--allow-currency-mismatch)"]
