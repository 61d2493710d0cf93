from decimal import Decimal

import pytest

from stepledger import nano_to_usd, usd_to_nano


def test_dollars_become_exact_nano_usd():
    assert usd_to_nano(0.1) == 100_000_000
    assert usd_to_nano("0.01902") == 19_020_000
    assert usd_to_nano(Decimal("1.0000000005")) == 1_000_000_000  # half to even
    assert usd_to_nano(0) == 0
    assert nano_to_usd(19_020_000) == Decimal("0.01902")


@pytest.mark.parametrize("bad", [-0.01, float("nan"), float("inf"), "abc", True, 1e10])
def test_bad_amounts_raise_naming_the_field(bad):
    with pytest.raises(ValueError, match="^estimate_usd"):
        usd_to_nano(bad, "estimate_usd")
