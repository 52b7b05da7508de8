"""`make demo` and `make demo-um`: the README's main job runs end to end on a fresh network of each flavor, and
reads like a story for a network owner (issue 21 item 9): the free plan shown as free, each step's price before
its writes, no pricing jargon on the first screen, and on UM a refused request showing a limit enforced."""

from __future__ import annotations

import re

import pytest

from wpbridge import demo

from .conftest import UM_LATEST, um_build

FIRST_SCREEN = 40
"""Lines a terminal shows at once (after the sandbox's start-up lines)."""


def steps(out: str) -> list[str]:
    return re.split(r"\n(?===)", out)


@pytest.mark.parametrize("flavor", ["stub", "ultimate-multisite"])
def test_the_demo_walks_through_every_step(flavor: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--flavor", flavor]
    if flavor == "ultimate-multisite":
        args += ["--um-plugin", str(um_build(UM_LATEST))]
    assert demo.main(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    for step in ("== 1.", "== 2.", "== 3.", "== 4.", "== 5.", "== Done"):
        assert step in out
    assert "Applied: upgrade of membership" in out
    assert "Nothing to do" in out
    assert "Scheduled: downgrade to Free" in out
    assert "You must trash 1 post" in out
    if flavor == "ultimate-multisite":
        assert "UM's computed limits match" in out and "posts: post 1000" in out
        # a limit enforced on UM: WordPress refuses an upload over UM's disk limit, and takes it after the upgrade
        assert re.search(r"upload -> 400 rest_upload_limited_space", out), out
        assert re.search(r"upload -> 201 created", out)
    else:
        assert "11th post -> 403" in out and "11th post -> 201" in out
    # the story: a free plan reads as free; no jargon on the first screen; each price before its writes
    first = "\n".join(out[out.index("== 1."):].splitlines()[:FIRST_SCREEN])
    assert "free" in first and "0.00 USD / once" not in first
    for jargon in ("Differs from", "deviation", "policy", "ultimate-multisite", "unused credit", "Kind:"):
        assert jargon not in first, jargon
    assert "Differs from Ultimate Multisite" not in out
    for step in steps(out):
        for writes in re.finditer(r"Writes \(\d+\):", step):
            assert "Price: " in step[:writes.start()], f"no price before the writes of:\n{step[:400]}"
    assert ".0000" not in out  # amounts with the currency's decimals
