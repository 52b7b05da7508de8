"""The pricing engine against the real Ultimate Multisite Cart, on random scenarios, for each UM build.

Hypothesis draws the scenarios (tests/cartdiff/strategies.py); ONE `cart_batch.php` process prices them all on the
session's UM sandbox (each scenario in a transaction rolled back, so the seeded sandbox is shared); `quote_change`
prices the same scenarios with `um_version` = the build's; the comparison (tests/cartdiff/compare.py) fails on
any difference a deviation does not declare, printing the smallest failing scenario. WPBRIDGE_CARTDIFF_N (default
300) and WPBRIDGE_CARTDIFF_SEED change the size and the draw; bench/cart_diff.py runs any size and reports.
"""

from __future__ import annotations

import os
import time

import pytest

from tests.cartdiff.compare import compare_all
from tests.cartdiff.oracle import cart_batch_path, run_batch
from tests.cartdiff.strategies import scenarios
from wpbridge.sandbox import SandboxInfo

N = int(os.environ.get("WPBRIDGE_CARTDIFF_N", "300"))
SEED = int(os.environ.get("WPBRIDGE_CARTDIFF_SEED", "20261130"))


def _run(info: SandboxInfo, version: str) -> None:
    assert cart_batch_path() is not None, "cart_batch.php not found next to the repository (../shared/...)"
    assert info.info["um_version"] == version
    drawn = scenarios(N, SEED)
    assert len(drawn) >= min(N, 300)
    started = time.monotonic()
    results = run_batch(drawn, info.url, info.info["docroot"])
    summary = compare_all(drawn, results, version)
    took = time.monotonic() - started
    print(f"\n{summary.table()}\n({len(drawn)} scenarios, {took:.1f} s)")
    worst = summary.minimal()
    if worst is not None:
        pytest.fail(f"{len(summary.failures)} of {summary.total} scenarios differ from UM {version}'s Cart without "
                    f"a deviation; the smallest:\n{worst.report()}\n\n{summary.table()}", pytrace=False)


def test_quotes_equal_the_real_cart_of_2_4_12(um_sandbox: SandboxInfo) -> None:
    _run(um_sandbox, "2.4.12")


def test_quotes_equal_the_real_cart_of_2_4_13_beta_1(um_main_sandbox: SandboxInfo) -> None:
    _run(um_main_sandbox, "2.4.13-beta.1")
