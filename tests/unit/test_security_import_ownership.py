"""Issue 20, item 16: an import never moves a record from one customer to another. A row whose username is
another customer's, a membership whose source key is another customer's, a site linked to another membership: each
is a conflict the plan shows (dry run included), never resolved by --update, and nothing depending on it is
written for the other customer."""

from __future__ import annotations

from tests.unit.test_import_plan import actions, existing, source, target
from wpbridge.workflows.importer_plan import build_plan


def test_a_row_whose_username_is_another_customers_creates_nothing_for_that_customer() -> None:
    t = target(customers=[{"id": 7, "email": "other@example.com", "username": "ann1"}])
    for update in (False, True):
        plan = build_plan(source(), t, update=update)
        ann = [a for a in actions(plan) if "ann" in a[1]]
        assert ann == [("customer", "ann@example.com", "conflict"),
                       ("membership", "csv:ann@example.com#1", "conflict"),
                       ("site", "net.example/ann/", "conflict")], ann
        membership = plan.of("membership")[0]
        assert "customer ann@example.com" in membership.note and membership.target_id is None


def test_a_membership_of_another_customer_is_never_moved_to_a_new_one() -> None:
    t = existing()
    t.customers.clear()  # the file's customer is new: the key's membership (customer 7's) must not move to it
    for update in (False, True):
        plan = build_plan(source(), t, update=update)
        step = plan.of("membership")[0]
        assert step.action == "conflict", step
        assert step.differences["customer"] == (7, "new (ann@example.com)")
        assert "another customer" in step.describe()
        assert plan.of("site")[0].action == "conflict"  # its site is not linked to the other customer's membership


def test_update_never_relinks_a_site_of_another_membership() -> None:
    t = existing()
    t.sites[("net.example", "/bob/")] = {"blog_id": 10, "domain": "net.example", "path": "/bob/", "title": "Bob",
                                         "membership_id": 70, "customer_id": 7, "type": "customer_owned"}
    step = build_plan(source(), t, update=True).of("site")[1]
    assert step.action == "conflict" and step.differences["membership"][0] == 70
    assert "belongs to another membership" in step.note
