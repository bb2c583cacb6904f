"""Write the SYNTHETIC example files `example-panel.csv` and `example-costs.csv`.

Nothing here is real patient data. The panel and its cost history are drawn from
simsuite's own single-lognormal cost model (see `simsuite.model.costmodel`), with the CMS 2018
national means and enrollment mix shipped in `simsuite/data`:

* panel: 5,600 beneficiaries, enrollment types in the national mix, HCC-like risk scores
  lognormal with mean 1 and coefficient of variation 0.8, ids ``SYN000001``...;
* costs: one row per beneficiary-year for two history years of the same panel, costs
  zero with probability 0.10, otherwise lognormal with log-sd 1.25 and mean
  ``type mean x trend x risk score / 0.9`` (trended 3%/yr from 2018 to 2025), with the
  beneficiary's risk score in a ``risk_score`` column.

Run from the repository root (deterministic: seed 2025)::

    python scenarios/data/make_example_data.py
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from simsuite.data.reference import ENROLLMENT_TYPES, national_ffs_2018

HERE = Path(__file__).parent
N_PATIENTS = 5_600
HISTORY_YEARS = 2
ZERO_SHARE, SIGMA, RISK_CV = 0.10, 1.25, 0.8
TREND = 1.03 ** (2025 - 2018)
CMS_SPELLING = {"esrd": "ESRD", "disabled": "DISABLED", "aged_dual": "AGED/DUAL", "aged_non_dual": "AGED/NON-DUAL"}


def main() -> None:
    rng = np.random.default_rng(2025)
    puf = national_ffs_2018()
    shares = np.array([puf["share"][t] for t in ENROLLMENT_TYPES])
    types = rng.choice(len(ENROLLMENT_TYPES), size=N_PATIENTS, p=shares / shares.sum())
    s = math.sqrt(math.log1p(RISK_CV**2))
    risk = np.round(rng.lognormal(-0.5 * s * s, s, N_PATIENTS), 3).clip(0.05)

    with open(HERE / "example-panel.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "enrollment_type", "risk_score"])
        for i in range(N_PATIENTS):
            # Both spellings appear, as in real exports: simsuite accepts CMS's.
            t = ENROLLMENT_TYPES[types[i]]
            out.writerow([f"SYN{i + 1:06d}", CMS_SPELLING[t] if i % 2 else t, f"{risk[i]:.3f}"])

    with open(HERE / "example-costs.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["enrollment_type", "annual_cost", "risk_score"])
        for _ in range(HISTORY_YEARS):
            for i in range(N_PATIENTS):
                t = ENROLLMENT_TYPES[types[i]]
                mean_positive = puf["mean"][t] * TREND * risk[i] / (1 - ZERO_SHARE)
                cost = 0.0 if rng.random() < ZERO_SHARE else rng.lognormal(
                    math.log(mean_positive) - 0.5 * SIGMA**2, SIGMA)
                out.writerow([t, f"{cost:.2f}", f"{risk[i]:.3f}"])


if __name__ == "__main__":
    main()
