"""Lookup tables that presets refer to (kept as data in ``simsuite/presets``)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from simsuite.io.yamlfile import load_package_yaml

INPUT = "input"  # a preset value with no published figure: the scenario must set it


@cache
def preset_file(name: str) -> dict[str, Any]:
    """Parsed content of ``simsuite/presets/<name>.yaml`` (safe-loaded, cached)."""
    text = resources.files("simsuite.presets").joinpath(f"{name}.yaml").read_text("utf-8")
    return load_package_yaml(text)


@cache
def _msr_bands() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    table = preset_file("mssp")["tables"]["msr_by_beneficiaries"]
    bands = table["bands"]
    low = np.array([b["low"] for b in bands], dtype=float)
    high = np.array([b["high"] for b in bands], dtype=float)
    rate_low = np.array([b["rate_low"] for b in bands], dtype=float)
    rate_high = np.array([b["rate_high"] for b in bands], dtype=float)
    return low, high, rate_low, rate_high, float(table["floor"])


def msr_table_start() -> int:
    """Smallest panel (assigned beneficiaries) the MSR table covers."""
    return int(_msr_bands()[0][0])


def msr_by_beneficiaries(n: Any) -> np.ndarray:
    """MSSP size-based minimum savings rate (fraction) for ``n`` assigned beneficiaries.

    Linear within each band of 42 CFR 425.604(b): from ``rate_low`` at the band's
    first count to ``rate_high`` at its last; the floor applies above the last band.

    Parameters
    ----------
    n : int or array_like
        Assigned beneficiaries (at least the first band's lower bound, 500).

    Returns
    -------
    ndarray
        MSR as a fraction of the benchmark, same shape as ``n``.
    """
    low, high, rate_low, rate_high, floor = _msr_bands()
    n = np.asarray(n, dtype=float)
    if np.any(n < low[0]):
        raise ValueError(f"the MSR table starts at {int(low[0])} assigned beneficiaries")
    band = np.clip(np.searchsorted(low, n, side="right") - 1, 0, len(low) - 1)
    within = (n - low[band]) / (high[band] - low[band])
    rate = rate_low[band] + within * (rate_high[band] - rate_low[band])
    return np.where(n > high[-1], floor, rate)


def quality_performance_standard(performance_year: int) -> tuple[float | None, str, str] | None:
    """The MSSP quality performance standard of a year: ``(threshold, confidence, source)``.

    ``threshold`` is the quality score (fraction) at or above which the standard is met
    (42 CFR 425.512(a)(3)-(5)); ``None`` when the year's value is not published (the
    table says ``input``). Returns None for a year the table does not list.
    """
    table = preset_file("mssp")["tables"]["quality_performance_standard"]
    entry = table.get(performance_year)
    if entry is None:
        return None
    value, confidence, source = entry
    return (None if value == INPUT else float(value)), str(confidence), str(source)
