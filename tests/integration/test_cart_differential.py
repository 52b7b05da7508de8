"""The pricing engine against the real Ultimate Multisite, on random scenarios, for both UM builds.

Hypothesis draws the scenarios (tests/cartdiff/strategies.py). ONE `cart_batch.php` process per build prices them
all on the session's UM sandbox (2.4.12 and 2.4.13-beta.1; each scenario in a transaction rolled back, so the
seeded sandboxes are shared), both builds at once; `quote_change` prices the same scenarios with that build's
`um_version`; the comparison (tests/cartdiff/compare.py) fails on any difference a deviation does not declare,
printing the smallest failing scenario (scenarios include the membership's own discount code, run through
tests/cartdiff/cart_batch_member_code.php, and periods without a plan; each cart wpbridge refuses as outside the
Change form is priced forced and its unforced refusal must declare UM's answer). `change_options` is compared
with UM's Change form the same way (tests/cartdiff/forms.py), and `effective_limitations` with UM's composite
limitations (tests/cartdiff/limits.py).
With taxes (docs/ultimate-multisite.md §11): the measured facts (tests/cartdiff/taxfacts.py) and random scenarios
with UM's tax settings, rates, taxable products of some category, customer addresses and exemption
(`tax_scenarios`), compared on the tax total and each line's rate and tax as well.
WPBRIDGE_CARTDIFF_N and WPBRIDGE_CARTDIFF_TAX_N (default 300), WPBRIDGE_CARTDIFF_FORMS_N and
WPBRIDGE_CARTDIFF_LIMITS_N (default 60) and WPBRIDGE_CARTDIFF_SEED change the size and the draw; bench/cart_diff.py
runs any size and reports.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.cartdiff.compare import compare_all, um_values
from tests.cartdiff.forms import compare_form, form_scenarios, run_forms
from tests.cartdiff.limits import compare_limits, limit_scenarios, run_limits
from tests.cartdiff.oracle import cart_batch_path, run_batch
from tests.cartdiff.shrink import shrink
from tests.cartdiff.strategies import scenarios, tax_scenarios
from tests.cartdiff.taxfacts import FACTS, fact_scenarios, mismatches
from wpbridge.sandbox import SandboxInfo

N = int(os.environ.get("WPBRIDGE_CARTDIFF_N", "300"))
TAX_N = int(os.environ.get("WPBRIDGE_CARTDIFF_TAX_N", "300"))
FORMS_N = int(os.environ.get("WPBRIDGE_CARTDIFF_FORMS_N", "60"))
LIMITS_N = int(os.environ.get("WPBRIDGE_CARTDIFF_LIMITS_N", "60"))
SEED = int(os.environ.get("WPBRIDGE_CARTDIFF_SEED", "20261130"))


def test_quotes_equal_the_real_cart_of_both_builds(um_sandbox: SandboxInfo, um_main_sandbox: SandboxInfo) -> None:
    drawn = scenarios(N, SEED)
    assert len(drawn) >= min(N, 300)
    _differential(drawn, {"2.4.12": um_sandbox, "2.4.13-beta.1": um_main_sandbox})


def test_quotes_with_taxes_equal_the_real_cart_of_both_builds(um_sandbox: SandboxInfo,
                                                              um_main_sandbox: SandboxInfo) -> None:
    facts = fact_scenarios()
    drawn = facts + tax_scenarios(TAX_N, SEED)
    results = _differential(drawn, {"2.4.12": um_sandbox, "2.4.13-beta.1": um_main_sandbox})
    moved = []
    for version, answers in results.items():
        for fact, s, r in zip(FACTS, facts, answers, strict=False):
            if diff := mismatches(fact, version, um_values(s, r)):
                moved.append(f"{fact['id']} (UM {version}): {diff}")
    assert not moved, "UM no longer answers the measured tax facts (update §11 and taxfacts.py):\n" + "\n".join(moved)


def _differential(drawn: list[dict[str, Any]], builds: dict[str, SandboxInfo]) -> dict[str, list[dict[str, Any]]]:
    """Run `drawn` on the real Cart of each build and fail on any difference a deviation does not declare."""
    assert cart_batch_path() is not None, "cart_batch.php not found next to the repository (../shared/...)"
    for version, info in builds.items():
        assert info.info["um_version"] == version
    started = time.monotonic()

    def batch(info: SandboxInfo) -> list[dict[str, Any]]:
        return run_batch(drawn, info.url, info.info["docroot"])

    with ThreadPoolExecutor(max_workers=2) as pool:  # one PHP process per build, side by side
        results = dict(zip(builds, pool.map(batch, builds.values()), strict=True))
    summaries = [compare_all(drawn, results[v], v) for v in builds]
    report = "\n".join(s.table() for s in summaries)
    print(f"\n{report}\n({len(drawn)} scenarios per build, {time.monotonic() - started:.1f} s)")
    failing = [s for s in summaries if s.failures]
    if failing:
        summary = failing[0]
        worst = summary.minimal()
        assert worst is not None
        info = builds[summary.version]
        small = shrink(worst.scenario, summary.version, lambda c: run_batch(c, info.url, info.info["docroot"]))
        shown = compare_all([small], run_batch([small], info.url, info.info["docroot"]), summary.version)
        minimal = shown.minimal() or worst
        pytest.fail(f"{sum(len(s.failures) for s in failing)} scenarios differ from UM's Cart without a deviation; "
                    f"a minimal one (UM {summary.version}, shrunk from the smallest failing):\n{minimal.report()}"
                    f"\n\n{report}", pytrace=False)
    return results


def test_change_options_equal_ums_change_form(um_sandbox: SandboxInfo) -> None:
    drawn = form_scenarios(FORMS_N, SEED)
    results = run_forms(drawn, um_sandbox.url, um_sandbox.info["docroot"])
    failures = [(s, p) for s, r in zip(drawn, results, strict=True) if (p := compare_form(s, r))]
    if failures:
        s, problems = min(failures, key=lambda f: len(str(f[0])))
        pytest.fail(f"{len(failures)} of {len(drawn)} catalogs: change_options differs from UM's Change form; the "
                    f"smallest:\n{s}\n  " + "\n  ".join(problems), pytrace=False)


def test_effective_limitations_equal_ums_composite(um_sandbox: SandboxInfo, um_main_sandbox: SandboxInfo) -> None:
    drawn = limit_scenarios(LIMITS_N, SEED)
    failures = []
    for info in (um_sandbox, um_main_sandbox):  # the releases merge `visibility` differently
        results = run_limits(drawn, info.url, info.info["docroot"])
        failures += [(s, p) for s, r in zip(drawn, results, strict=True) if (p := compare_limits(s, r))]
    if failures:
        s, problems = min(failures, key=lambda f: len(str(f[0])))
        pytest.fail(f"{len(failures)} of {len(drawn)} catalogs: effective_limitations differs from UM's "
                    f"Membership::get_limitations(); the smallest:\n{s}\n  " + "\n  ".join(problems), pytrace=False)
