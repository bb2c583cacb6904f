"""Readers of the reference data shipped in ``simsuite/data``.

* ``ssp_county_ffs_benchmark_puf_2018.csv``: CMS County-level FFS Data for Shared Savings
  Program Benchmark PUF, 2018 (person-year-weighted national means and enrollment mix);
* ``cost_model_defaults.yaml``: the calibrated default shape of the cost model and its
  provenance (written by ``simsuite calibrate --write``, `simsuite.tools.calibrate`);
* ``dynamics_defaults.yaml``: persistence and churn of beneficiaries over the years, with
  their sources (`simsuite.tools.calibrate_dynamics`);
* ``variance_defaults.yaml``: the parts of an ACO's savings-rate variance beyond claims
  noise, fitted to CMS's MSSP results (`simsuite.tools.calibrate_variance`);
* ``mssp/``: copies of CMS's MSSP performance-year PUF, PY2013-2024, and their README
  (read by `simsuite.tools.mssp_panel`).

These sit below every other stage: the scenario schema takes its defaults from them.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from simsuite.io.yamlfile import load_package_yaml

ENROLLMENT_TYPES: tuple[str, ...] = ("esrd", "disabled", "aged_dual", "aged_non_dual")
_PUF_COLUMNS = {
    "esrd": "ESRD",
    "disabled": "DISABLED",
    "aged_dual": "AGED/DUAL",
    "aged_non_dual": "AGED/NON-DUAL",
}
PUF_YEAR = 2018
DEFAULTS_FILE = "cost_model_defaults.yaml"
DYNAMICS_FILE = "dynamics_defaults.yaml"
VARIANCE_FILE = "variance_defaults.yaml"


@cache
def national_ffs_2018() -> dict[str, dict[str, float]]:
    """Person-year-weighted national per-capita FFS spending and person-years by type.

    Returns
    -------
    dict
        ``{"mean": {type: dollars}, "share": {type: fraction of person-years}}``
        from the CMS 2018 County-level FFS Data for Shared Savings Program Benchmark PUF.
    """
    path = resources.files("simsuite.data").joinpath("ssp_county_ffs_benchmark_puf_2018.csv")
    dollars = dict.fromkeys(ENROLLMENT_TYPES, 0.0)
    years = dict.fromkeys(ENROLLMENT_TYPES, 0.0)
    with path.open("r", encoding="utf-8-sig") as fh:
        rows = csv.reader(fh)
        header = [name.strip() for name in next(rows)]
        columns = {t: (header.index(f"Per capita {col} expenditures"), header.index(f"{col} person-years"))
                   for t, col in _PUF_COLUMNS.items()}
        for row in rows:
            if not row:
                continue
            for t, (i_spend, i_years) in columns.items():
                spend, py = row[i_spend], row[i_years]
                # Small cells are suppressed in the PUF (blank or ".").
                if _is_number(spend) and _is_number(py):
                    dollars[t] += float(spend) * float(py)
                    years[t] += float(py)
    total = sum(years.values())
    return {
        "mean": {t: dollars[t] / years[t] for t in ENROLLMENT_TYPES},
        "share": {t: years[t] / total for t in ENROLLMENT_TYPES},
    }


def _is_number(text: str) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


@cache
def cost_model_defaults() -> dict:
    """The calibrated default shape and its provenance (``simsuite/data/cost_model_defaults.yaml``).

    Returns
    -------
    dict
        The parsed file: ``shape`` (``zero_share``, ``tail_weight``, ``body_sigma``,
        ``tail_sigma``, ``tail_mean_ratio``, ``risk_elasticity``), the fixed inputs and
        targets of the fit, and the fit table. Written by ``simsuite calibrate --write``.
    """
    path = resources.files("simsuite.data").joinpath(DEFAULTS_FILE)
    with path.open("r", encoding="utf-8") as fh:
        return load_package_yaml(fh)


def default_shape() -> dict[str, float]:
    """The calibrated shape parameters (see `cost_model_defaults`), as floats."""
    return {k: float(v) for k, v in cost_model_defaults()["shape"].items()}


@cache
def dynamics_defaults() -> dict:
    """Defaults of a scenario's ``dynamics`` section and their provenance
    (``simsuite/data/dynamics_defaults.yaml``): ``stay`` (fitted) and ``churn`` (published)."""
    path = resources.files("simsuite.data").joinpath(DYNAMICS_FILE)
    with path.open("r", encoding="utf-8") as fh:
        return load_package_yaml(fh)


@cache
def variance_defaults() -> dict:
    """The fitted parts of the savings rate's variance beyond claims noise and their
    provenance (``simsuite/data/variance_defaults.yaml``, written by
    ``simsuite calibrate variance --write``, `simsuite.tools.calibrate_variance`)."""
    path = resources.files("simsuite.data").joinpath(VARIANCE_FILE)
    with path.open("r", encoding="utf-8") as fh:
        return load_package_yaml(fh)


def package_data_path(name: str) -> Path:
    """Where a shipped data file lives in the installed package (written by the calibrations)."""
    return Path(str(resources.files("simsuite.data").joinpath(name)))


def mssp_file(relative: str) -> Traversable:
    """A shipped copy of CMS's MSSP PUF, e.g. ``raw/mssp_puf_py2024.csv`` (``simsuite/data/mssp``;
    its README gives each file's origin and md5)."""
    return resources.files("simsuite.data").joinpath("mssp", *relative.split("/"))
