"""`make demo` and `make demo-um`: the README's main job runs end to end on a fresh network of each flavor."""

from __future__ import annotations

import pytest

from wpbridge import demo

from .conftest import UM_LATEST, um_build


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
    else:
        assert "11th post -> 403" in out and "11th post -> 201" in out
