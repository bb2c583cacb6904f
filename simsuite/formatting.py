"""Short text forms of money and probabilities, shared by every table and message."""

from __future__ import annotations


def money(x: float) -> str:
    """Dollars in a short form: $1.23M, -$456.7k, $89."""
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x >= 1e6:
        return f"{sign}${x / 1e6:,.2f}M"
    if round(x) >= 1e3:
        return f"{sign}${x / 1e3:,.1f}k"
    return f"{sign}${x:,.0f}"


def percent(x: float, digits: int = 1) -> str:
    """A fraction as a percentage: 0.0523 -> '5.2%'."""
    return f"{100 * x:.{digits}f}%"
