"""The offline pricing demo prints the example's offers and an upgrade quote with fixed numbers."""

from __future__ import annotations

import pytest

from wpbridge import demo_pricing


def test_demo_prints_offers_and_a_mid_cycle_upgrade(capsys: pytest.CaptureFixture[str]) -> None:
    demo_pricing.main()
    out = capsys.readouterr().out
    free_part = out.split("A Free customer:")[1].split("A Basic customer")[0]
    assert "Premium               39.00 USD / 1 month  (upgrade)" in free_part
    assert "Basic" not in free_part
    assert "* Free                   free" in free_part and "0.00 USD" not in free_part  # issue 21 item 9
    for addon in ("Unlimited visits", "Extra storage", "Site setup"):
        assert addon in free_part
    # Basic 15/month, 16 whole days left: credit 16 × 15 / 30.4375 = 7.89, due 39 - 7.89 = 31.11
    assert "credit for the unused period: 7.89 USD" in out
    assert "due now:                      31.11 USD" in out
    assert "next charge 2025-04-10 12:00 UTC" in out
    assert "Premium (prorated: 57.1% of the period left)" in out
