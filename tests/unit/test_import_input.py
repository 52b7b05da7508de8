"""`wpbridge import`, reading and checking the input: every bad row named by its line (CSV) or path (JSON) and field,
nothing else flagged; what a CSV row leaves out is filled from the catalog."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from wpbridge.errors import InputError
from wpbridge.sandbox.example import example_catalog
from wpbridge.workflows.importer_input import check_references, read_csv, read_json, read_source

CATALOG = example_catalog()
HEADER = "email,username,plan,period,amount,currency,status,date_created,date_expiration,addons,site_path,site_title"


def big_csv(n: int, bad: dict[int, str]) -> str:
    """n rows; row i (1-based data row) replaced by bad[i] when given. Data row i is on line i + 1."""
    lines = [HEADER]
    for i in range(1, n + 1):
        lines.append(bad.get(i, f"user{i}@example.com,user{i:05d},basic,1:month,15,USD,active,2026-01-0{1 + i % 9},"
                                f"2026-12-01,extra-storage:{1 + i % 2},/site-{i}/,Site {i}"))
    return "\n".join(lines) + "\n"


def checked(text: str) -> list[str]:
    src = read_csv(text)
    check_references(src, CATALOG)
    return [str(i) for i in src.issues]


def test_a_thousand_rows_with_three_bad_ones_names_exactly_those_lines() -> None:
    bad = {
        13: "user13@example.com,user00013,premuim,1:month,15,USD,active,2026-01-01,2026-12-01,,/site-13/,S",
        500: "user500@example.com,user00500,basic,1:month,fifteen,USD,active,2026-01-01,2026-12-01,,/site-500/,S",
        999: "user999@example.com,user00999,basic,1:month,15,USD,active,2026-02-30,2026-12-01,,/site-999/,S",
    }
    issues = checked(big_csv(1000, bad))
    assert issues == [  # in line order (issue 21 item 8), though the plan is checked after the cells
        "line 14: plan 'premuim' does not exist (did you mean 'premium'?) (plans: free, basic, premium)",
        "line 501: amount 'fifteen' is not an amount >= 0 (e.g. 15 or 15.00)",
        "line 1000: date_created '2026-02-30' is not a date (YYYY-MM-DD or ISO 8601; UTC unless an offset is given)",
    ]
    src = read_csv(big_csv(1000, bad))
    check_references(src, CATALOG)
    assert len({i.where for i in src.issues}) == 3
    src.drop_invalid()
    assert len(src.memberships) == 997 and len(src.sites) == 997


def test_a_clean_row_is_filled_from_the_catalog() -> None:
    src = read_csv("email,plan,addons,site_path\nAnn@Example.com,premium,extra-storage:2;site-setup,/ann/\n")
    check_references(src, CATALOG)
    assert src.issues == []
    (m,) = src.memberships
    assert m.customer == "ann@example.com" and m.key == "csv:ann@example.com#1"
    assert m.fields["duration"] == 1 and m.fields["duration_unit"] == "month"
    assert m.fields["amount"] == Decimal("49")  # 39 + 2 x 5; the one-time service is not recurring
    assert m.fields["initial_amount"] == Decimal("98")
    assert m.fields["status"] == "active" and m.fields["currency"] == "USD"
    assert [(s.path, s.title, s.membership) for s in src.sites] == [("/ann/", "Ann", m.key)]
    assert src.customers[0].email == "Ann@Example.com" and src.customers[0].username is None


def test_a_period_the_plan_has_no_price_for_and_a_yearly_price() -> None:
    src = read_csv("email,plan,period\na@x.io,basic,1:year\nb@x.io,premium,12:months\n")
    check_references(src, CATALOG)
    assert [str(i) for i in src.issues] == ["line 2: plan 'basic' has no price for 1:year (it has: 1:month)"]
    assert src.memberships[1].fields["amount"] == Decimal("390")


@pytest.mark.parametrize(("row", "message"), [
    ("not-an-email,basic", "line 2: email 'not-an-email' is not an email address"),
    ("a@x.io,basic,Bad User", "line 2: username 'Bad User' must be 4 to 60 lowercase letters or digits"),
    ("a@x.io,basic,,2:fortnight", "line 2: period '2:fortnight' is not N:unit (e.g. 1:month, 1:year)"),
    ("a@x.io,basic,,,,paused", "line 2: status 'paused' is not one of pending, trialing, active, on-hold, expired,"
                               " cancelled"),
    ("a@x.io,basic,,,,,nope:2", "line 2: add-on 'nope' does not exist (add-ons: unlimited-visits, extra-storage,"
                                " site-setup)"),
    ("a@x.io,basic,,,,,extra-storage:0", "line 2: addons 'extra-storage:0' is not slug:quantity"
                                         " (e.g. extra-storage:2)"),
    ("a@x.io,extra-storage", "line 2: plan 'extra-storage' is a package, not a plan (plans: free, basic, premium)"),
    ("a@x.io,basic,,,,,,/Not A Path/", "line 2: site_path '/Not A Path/' must be one segment of a-z, 0-9 and -"
                                       " (e.g. /alice/)"),
])
def test_each_bad_field_is_named(row: str, message: str) -> None:
    text = "email,plan,username,period,amount,status,addons,site_path\n" + row + "\n"
    assert checked(text) == [message]


def test_duplicates_across_rows() -> None:
    text = ("email,username,plan,site_path,source_id\n"
            "a@x.io,anna,basic,/a/,s1\n"
            "b@x.io,anna,basic,/a/,s1\n"
            "a@x.io,anne,basic,/a2/,s2\n")
    assert checked(text) == [
        "line 3: username 'anna' is also given for a@x.io",
        "line 3: the site /a/ is also on line 2",
        "line 3: source_id 's1' is also on line 2",
        "line 4: username 'anne' differs from 'anna' given for a@x.io on line 2",
    ]


def test_two_memberships_of_one_customer_get_their_own_keys() -> None:
    src = read_csv("email,plan\na@x.io,basic\nA@X.io,premium\n")
    check_references(src, CATALOG)
    assert [m.key for m in src.memberships] == ["csv:a@x.io#1", "csv:a@x.io#2"]
    assert len(src.customers) == 1


def test_header_problems_stop_the_file_with_one_line() -> None:
    with pytest.raises(InputError, match=r"line 1 \(header\): unknown column 'emial' \(did you mean 'email'\?\)"):
        read_csv("emial,plan\na@x.io,basic\n")
    with pytest.raises(InputError, match="column 'plan' is required"):
        read_csv("email\na@x.io\n")
    with pytest.raises(InputError, match="the file is empty"):
        read_csv("")


def test_quoted_multiline_cells_keep_the_line_of_the_record_start() -> None:
    text = 'email,plan,site_title,site_path\na@x.io,basic,"Two\nlines",/a/\nb@x.io,nope,,/b/\n'
    assert checked(text) == ["line 4: plan 'nope' does not exist (plans: free, basic, premium)"]


def test_dates_are_utc() -> None:
    src = read_csv("email,plan,date_created,date_expiration\na@x.io,basic,2026-01-31,2026-02-28T10:00:00+02:00\n")
    fields = src.memberships[0].fields
    assert fields["date_created"] == datetime(2026, 1, 31, tzinfo=UTC)
    assert fields["date_expiration"] == datetime(2026, 2, 28, 8, tzinfo=UTC)


# --------------------------------------------------------------------------- JSON (an export)


def export(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "format": "wpbridge-snapshot", "version": 1, "exported_at": "2026-11-30T00:00:00Z",
        "source_url": "http://old.example.com",
        "info": {"plugin_version": "0.1.0", "mode": "stub", "server_time": "2026-11-30T00:00:00Z"},
        "catalog": [p.model_dump(mode="json") for p in CATALOG],
        "customers": [{"id": 1, "user_id": 5, "user_email": "ann@example.com", "user_login": "ann1",
                       "display_name": "Ann", "vip": True}],
        "memberships": [{"id": 7, "customer_id": 1, "plan_id": 3, "addon_products": {"5": 2}, "amount": "49",
                         "status": "active", "date_expiration": "2026-12-01 00:00:00"}],
        "sites": [{"blog_id": 1, "domain": "old.example.com", "path": "/", "type": "main"},
                  {"blog_id": 4, "domain": "old.example.com", "path": "/ann/", "membership_id": 7, "customer_id": 1,
                   "type": "customer_owned", "title": "Ann's"}],
        "quotas": [], "usage": [],
        "scheduled_changes": [{"membership_id": 7, "scheduled_for": "2026-12-01T00:00:00Z",
                               "target": {"plan_id": 2, "addon_products": {}, "amount": "15"}}],
    }
    data.update(changes)
    return data


def test_json_export_into_source_records() -> None:
    src = read_json(json.dumps(export()))
    check_references(src, CATALOG)
    assert src.issues == []
    assert [p.slug for p in src.products] == ["free", "basic", "premium", "unlimited-visits", "extra-storage",
                                              "site-setup"]
    assert src.products[0].addon_slugs == ["unlimited-visits", "extra-storage", "site-setup"]
    (c,) = src.customers
    assert (c.email, c.username, c.display_name, c.fields) == ("ann@example.com", "ann1", "Ann", {"vip": True})
    (m,) = src.memberships
    assert m.key == "http://old.example.com/membership/7" and m.plan == "premium"
    assert m.addons == {"extra-storage": 2} and m.fields["amount"] == Decimal("49")
    (s,) = src.sites  # the main site is not a customer's
    assert (s.path, s.domain, s.membership, s.title) == ("/ann/", None, m.key, "Ann's")
    (sc,) = src.scheduled
    assert sc.target == {"plan": "basic", "addons": {}, "amount": "15"}


def test_json_bad_records_are_named_by_path_and_field() -> None:
    data = export(memberships=[
        {"id": 7, "customer_id": 1, "plan_id": 99, "status": "active"},
        {"id": 8, "customer_id": 2, "plan_id": 2, "status": "paused"},
    ], customers=[{"id": 1, "user_id": 5}])
    src = read_json(json.dumps(data))
    assert [str(i) for i in src.issues] == [
        "customers[0] (id 1): user_email is missing (needed to find or create the customer)",
        "memberships[0] (id 7): customer_id 1 is not among the file's customers",
        "memberships[0] (id 7): plan_id 99 is not in the file's catalog",
        "memberships[1]: field 'status': Input should be 'pending', 'trialing', 'active', 'on-hold', 'expired' or"
        " 'cancelled' (got 'paused')",
    ]
    src.drop_invalid()  # the site and the scheduled change of the bad membership go with it
    assert (src.memberships, src.sites, src.scheduled) == ([], [], [])
    assert [i.field for i in src.issues][:3] == ["user_email", "customer_id", "plan_id"]


def test_not_an_export(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(InputError, match="not a wpbridge export"):
        read_source(path)
    path.write_text("{nope")
    with pytest.raises(InputError, match="not valid JSON"):
        read_source(path)
    with pytest.raises(InputError, match="cannot read it"):
        read_source(tmp_path / "missing.csv")


def test_a_semicolon_separated_csv_is_said_as_such() -> None:
    """Issue 21 item 8: a CSV saved by a European spreadsheet (';' between cells) is named, not 'unknown column'."""
    with pytest.raises(InputError) as err:
        read_csv(HEADER.replace(",", ";") + "\nann@example.com;ann;basic;1:month;15,00;USD;active;2026-01-01;;;/a/;A\n")
    assert str(err.value).startswith("import input: line 1 (header): the columns are separated by semicolons (';')")
