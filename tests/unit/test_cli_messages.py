"""Messages that say what to do (issue 21 item 8): did-you-mean for plan and add-on slugs, the periods a plan has."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.unit.workflow_support import NOW, example_data, write_snapshot_file
from wpbridge.cli import main


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
