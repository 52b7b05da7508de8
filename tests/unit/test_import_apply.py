"""`wpbridge import`, carrying out a plan against a fake server: order, batches, what counts as a write, and what
happens to the records that depend on one that failed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from wpbridge.errors import InvalidRequestError
from wpbridge.managers.flavor import STUB
from wpbridge.models import Limitations
from wpbridge.rest.batch import BatchItem, BatchItemResult, BatchResult
from wpbridge.sandbox.example import example_catalog
from wpbridge.workflows.importer_apply import Applier
from wpbridge.workflows.importer_input import check_references, read_csv
from wpbridge.workflows.importer_plan import TargetState, build_plan

CATALOG = example_catalog()
CSV = ("email,plan,addons,site_path\n"
       "ann@example.com,premium,extra-storage:2,/ann/\n"
       "bad@example.com,basic,,/bad/\n"
       "old@example.com,basic,,/old/\n")


class FakeServer:
    """Answers the import routes like plugin-stub: ensures by natural key; `bad@` is refused."""

    def __init__(self) -> None:
        self.batches: list[list[BatchItem]] = []
        self.quota_writes: dict[int, Limitations] = {}
        self.next_id = 100
        # the managers an import writes through
        self.products = SimpleNamespace(catalog=lambda: CATALOG)
        self.imports = SimpleNamespace(batch=self.batch)
        self.quotas = SimpleNamespace(list=self.quota_list, put_many=self.put_many)

    def batch(self, items: Sequence[BatchItem], *, limit: int | None = None) -> BatchResult:
        self.batches.append(list(items))
        out = []
        for item in items:
            self.next_id += 1
            body = item.body or {}
            if item.path.endswith("/customers"):
                if body["email"].startswith("bad"):
                    err = InvalidRequestError("email: refused", status=400, code="rest_invalid_param", field="email")
                    out.append(BatchItemResult(item.key, False, 400, err))
                    continue
                created = not body["email"].startswith("old")  # an earlier, killed run had made this one
                data: dict[str, Any] = {"created": created, "customer": {"id": self.next_id}}
            elif item.path.endswith("/memberships"):
                data = {"created": True, "membership": {"id": self.next_id, "customer_id": body["customer_id"],
                                                        "plan_id": body["plan_id"], "status": "active",
                                                        "addon_products": body["addon_products"]}}
            elif item.path.endswith("/scheduled-change"):
                data = {"membership_id": int(item.path.split("/")[-2]), **body}
            else:
                data = {"created": True, "site": {"blog_id": self.next_id, "membership_id": body["membership_id"]}}
            out.append(BatchItemResult(item.key, True, 200, None, data))
        return BatchResult(items=out, batches=1)

    def quota_list(self, blog_ids: Iterable[int]) -> list[tuple[int, Limitations | None]]:
        return [(b, None) for b in blog_ids]

    def put_many(self, quotas: Mapping[int, Limitations], *, batch_limit: int | None = None) -> BatchResult:
        self.quota_writes.update(quotas)
        return BatchResult(items=[BatchItemResult(b, True, 200) for b in quotas], batches=1)


def test_order_found_failures_and_dependents() -> None:
    src = read_csv(CSV)
    check_references(src, CATALOG)
    target = TargetState(flavor=STUB, domain="net.example", path="/", subdomain=False, catalog=CATALOG, customers=[],
                         memberships={}, keys={}, sites={}, scheduled={})
    plan = build_plan(src, target)
    server = FakeServer()
    out = Applier(server, plan).run()  # type: ignore[arg-type]

    kinds = [{i.path.rsplit("/", 1)[1] for i in batch} for batch in server.batches]
    assert kinds == [{"customers"}, {"memberships"}, {"sites"}]
    status = {(w.kind, w.key): w.status for w in out.writes}
    assert status[("customer", "ann@example.com")] == "done"
    assert status[("customer", "old@example.com")] == "found"  # not a write: it was there already
    assert status[("customer", "bad@example.com")] == "failed"
    assert status[("membership", "csv:bad@example.com#1")] == "skipped"
    assert status[("site", "net.example/bad/")] == "skipped"
    assert status[("site", "net.example/ann/")] == "done"
    assert len(server.batches[1]) == 2 and len(server.quota_writes) == 2
    assert out.written == 1 + 2 + 2 + 2  # customers, memberships, sites, quotas
    failed = [e for e in out.errors if e["kind"] == "customer"]
    assert failed == [{"where": "line 3", "kind": "customer", "key": "bad@example.com",
                       "message": "email: refused", "status": 400, "code": "rest_invalid_param", "field": "email"}]
    assert set(out.phases) == {"products", "customers", "memberships", "sites", "scheduled_changes", "quotas"}


def test_a_scheduled_change_is_stored_as_the_source_had_it_with_force() -> None:
    """An import restores a change the source network accepted: its PUT says force, so UM stores it even where its
    Change form would not offer it (another plan group); the plan names that (test_import_plan)."""
    import json

    from wpbridge.workflows.importer_input import read_json

    data = {"format": "wpbridge-snapshot", "version": 1, "source_url": "http://a",
            "catalog": [p.model_dump(mode="json") for p in CATALOG],
            "customers": [{"id": 1, "user_email": "ann@example.com"}],
            "memberships": [{"id": 4, "customer_id": 1, "plan_id": 3, "status": "active"}],
            "sites": [], "scheduled_changes": [{"membership_id": 4, "scheduled_for": "2026-12-01T00:00:00Z",
                                                "target": {"plan_id": 2, "amount": "15"}}]}
    src = read_json(json.dumps(data))
    target = TargetState(flavor=STUB, domain="net.example", path="/", subdomain=False, catalog=CATALOG, customers=[],
                         memberships={}, keys={}, sites={}, scheduled={})
    server = FakeServer()
    out = Applier(server, build_plan(src, target)).run()  # type: ignore[arg-type]
    puts = [i for batch in server.batches for i in batch if i.path.endswith("/scheduled-change")]
    assert [(i.method, i.body["target"]["plan_id"], i.body["force"]) for i in puts] == [("PUT", 2, True)]
    assert [w.status for w in out.writes if w.kind == "scheduled_change"] == ["done"]
