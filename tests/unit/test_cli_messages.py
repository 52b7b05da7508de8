"""Messages that say what to do (issue 21 item 8): did-you-mean for plan and add-on slugs, the periods a plan has."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner, Result

from tests.unit.workflow_support import NOW, example_data, write_snapshot_file
from wpbridge.cli import main
from wpbridge.errors import Conflict
from wpbridge.models import ScheduledChange
from wpbridge.workflows.sync.report import Summary
from wpbridge.workflows.sync.um import UMFlavor


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False,
                              env={"WPBRIDGE_CONFIG": None, "WPBRIDGE_URL": None})


@pytest.fixture
def snap(tmp_path: Path) -> str:
    return str(write_snapshot_file(tmp_path, example_data()))


@pytest.mark.parametrize(("args", "line"), [
    (["--plan", "premum"], "error: Invalid value for '--plan': unknown plan 'premum': no plan has that slug or id"
                           " (did you mean 'premium'?; plans: free, basic, premium)"),
    (["--plan", "Premium"], "error: Invalid value for '--plan': unknown plan 'Premium': no plan has that slug or id"
                            " (did you mean 'premium'?; plans: free, basic, premium)"),
    (["--plan", "gold"], "error: Invalid value for '--plan': unknown plan 'gold': no plan has that slug or id"
                         " (plans: free, basic, premium)"),
    (["--addon", "extra-storag:2"], "error: Invalid value for '--addon': unknown add-on 'extra-storag': no product has"
                                    " that slug or id (did you mean 'extra-storage'?; add-ons: unlimited-visits,"
                                    " extra-storage, site-setup)"),
    (["--period", "1:week"], "error: Invalid value for '--period': Basic (basic) has no 1 week price (its periods:"
                             " 1 month) (UM's Cart: The product you are trying to add does not exist for the"
                             " selected duration)"),
    (["--plan", "premium", "--period", "1:week"], "error: Invalid value for '--period': Premium (premium) has no"
                                                  " 1 week price (its periods: 1 month, 1 year) (UM's Cart: The"
                                                  " product you are trying to add does not exist for the selected"
                                                  " duration)"),
])
def test_a_mistyped_request_is_one_line_that_says_what_there_is(snap: str, args: list[str], line: str) -> None:
    res = cli("change", "quote", "2", *args, "--at", NOW.isoformat(), "--snapshot", snap)
    assert res.exit_code == 2 and res.stdout == ""
    assert res.stderr == line + "\n"


class _Swaps:
    def apply(self, membership_id: int) -> None:
        raise Conflict("not due", code="wpbridge_not_due", status=409)


def test_sync_at_in_the_future_on_um_says_the_server_refuses_what_is_not_due_by_its_clock() -> None:
    summary = Summary(scheduled_changes_due=1)
    run = SimpleNamespace(options=SimpleNamespace(dry_run=False), network=SimpleNamespace(schedule=_Swaps()),
                          summary=summary, sink=None, overlay={})
    change = ScheduledChange(membership_id=3, scheduled_for=NOW, target={"plan_id": 2})
    UMFlavor().scheduled(run, change, None)  # type: ignore[arg-type]
    assert summary.scheduled_changes_not_due_on_server == 1 and summary.errors == 0
    line = summary.line(dry_run=False)
    assert ("0 of 1 due scheduled changes applied (1 not due yet by the server's clock: Ultimate Multisite applies a"
            " change only once it is due by its own time; run sync again then)") in line
    assert "not due" not in Summary(scheduled_changes_due=1, scheduled_changes_applied=1).line(dry_run=False)
