"""Dollars to int64 nano-USD, the unit of every amount on the wire (1 USD = 10**9)."""
from decimal import Decimal, InvalidOperation, ROUND_HALF_EVEN

NANOS_PER_USD = 10**9
# The collector's bound on a step's cost and on a budget estimate alike: 0 ..= 10**18 nano-USD.
MAX_NANO_USD = 10**18


def usd_to_nano(usd, field="cost_usd"):
    """Converts a dollar amount (int, float, Decimal or numeric str) to int nano-USD.

    Goes through Decimal(str(x)) so 0.1 becomes exactly 100000000 (not 99999999 from the
    float's binary value); rounds half to even at the nano. Raises ValueError naming `field`
    for negative, non-finite or non-numeric input: a money path never guesses.
    """
    if isinstance(usd, bool):
        raise ValueError(f"{field}: expected a number of dollars, got a bool")
    try:
        amount = Decimal(str(usd))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{field}: not a number of dollars: {usd!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{field}: not a finite amount: {usd!r}")
    nano = int((amount * NANOS_PER_USD).to_integral_value(rounding=ROUND_HALF_EVEN))
    if nano < 0:
        raise ValueError(f"{field}: negative amount {usd!r}")
    if nano > MAX_NANO_USD:
        raise ValueError(f"{field}: {usd!r} is over the limit of {MAX_NANO_USD} nano-USD")
    return nano


def nano_to_usd(nano):
    """Nano-USD to a Decimal number of dollars (exact, for printing)."""
    return Decimal(nano) / NANOS_PER_USD
