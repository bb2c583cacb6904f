"""What CMS's MSSP results say about the spread of an ACO's savings rate, by size.

From the linked ACO-years of `simsuite.tools.mssp_panel`:

* ``dSR``: the savings rate (percentage points of the benchmark) less the mean of every
  ACO in the same performance year (a common shock, such as a year's national trend,
  leaves no trace);
* size bands: the quintiles of ``N_AB`` (assigned beneficiaries) over the pooled
  in-sample ACO-years, PY2013-2021; out-of-sample years keep the same cut points;
* a *pair* is one ACO in PY ``t`` and ``t + 1`` (lag 2: ``t + 2``), put in the band of
  its first year; *within* an agreement when both years have the same agreement start
  date, *across* a rebasing when they differ.

The statistics (`STATISTICS`): the SD of dSR across ACO-years of each band, the SD of the
year-to-year change of dSR divided by sqrt(2) (equal to the SD of a series with no
persistence), and the correlations of consecutive years' dSR within an agreement,
across a rebasing and two years apart within one agreement, pooled over bands.
Standard errors: a bootstrap over ACOs (clusters of ``link_id``), every statistic, the
year means included, recomputed with each replicate's frequency weights.

``layout`` describes the ACO-years by agreement (first or later) and year of the
agreement, so that a simulated agreement pools its years as the sample does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

IN_SAMPLE = (2013, 2021)
OUT_OF_SAMPLE = (2022, 2024)
BANDS = 5
BOOTSTRAP_SEED = 20250101
#: Statistics by band, then pooled over bands.
BAND_STATISTICS = ("sd", "sd_change")
POOLED_STATISTICS = ("corr_within", "corr_across", "corr_lag2")


@dataclass(frozen=True)
class PanelDesign:
    """The linked ACO-years arranged for the statistics (nothing here changes across
    bootstrap replicates).

    Attributes
    ----------
    year, band, cluster, sr : ndarray
        Per ACO-year: performance year, size band (0-4), ACO index, savings rate (pp).
    n_ab : ndarray
        Assigned beneficiaries of each ACO-year.
    first, second : ndarray
        Row indices of the lag-1 pairs; ``kind`` is ``within``, ``across`` or ``unknown``.
    first2, second2, kind2 : ndarray
        The same for lag-2 pairs.
    renewal, position : ndarray
        Per ACO-year: a later agreement (not the ACO's first), and the year of the
        agreement (0 = its first performance year).
    cuts : ndarray
        The band cut points (assigned beneficiaries).
    """

    year: np.ndarray
    band: np.ndarray
    cluster: np.ndarray
    sr: np.ndarray
    n_ab: np.ndarray
    first: np.ndarray
    second: np.ndarray
    kind: np.ndarray
    first2: np.ndarray
    second2: np.ndarray
    kind2: np.ndarray
    renewal: np.ndarray
    position: np.ndarray
    cuts: np.ndarray

    @classmethod
    def of(cls, panel: pd.DataFrame) -> PanelDesign:
        """Arrange `simsuite.tools.mssp_panel.linked_panel`'s rows."""
        import pandas as pd

        year = panel.year.to_numpy()
        inside = (year >= IN_SAMPLE[0]) & (year <= IN_SAMPLE[1])
        cuts = np.quantile(panel.n_ab.to_numpy()[inside], [0.2, 0.4, 0.6, 0.8])
        band = np.searchsorted(cuts, panel.n_ab.to_numpy(), side="right")
        start = pd.to_datetime(panel.agreement_start).to_numpy()

        def pairs(lag: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            rows = pd.DataFrame({"aco": panel.link_id.to_numpy(), "year": year, "row": np.arange(len(year))})
            m = rows.merge(rows, on="aco", suffixes=("0", "1"))
            m = m[m.year1 == m.year0 + lag].sort_values(["year0", "aco"])
            a, b = m.row0.to_numpy(), m.row1.to_numpy()
            unknown = pd.isna(start[a]) | pd.isna(start[b])
            kind = np.where(unknown, "unknown", np.where(start[a] == start[b], "within", "across"))
            return a, b, kind

        a1, b1, k1 = pairs(1)
        a2, b2, k2 = pairs(2)
        number = panel.agreement_number.to_numpy(dtype=float)
        return cls(year=year, band=band, cluster=pd.factorize(panel.link_id)[0], sr=panel.sr.to_numpy(dtype=float),
                   n_ab=panel.n_ab.to_numpy(dtype=float), first=a1, second=b1, kind=k1, first2=a2, second2=b2,
                   kind2=k2, renewal=np.nan_to_num(number, nan=1.0) > 1.0,
                   position=panel.year_in_agreement.fillna(0).to_numpy(dtype=int), cuts=cuts)

    def in_years(self, years: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Masks of the rows, lag-1 pairs and lag-2 pairs whose years all lie in ``years``."""
        rows = (self.year >= years[0]) & (self.year <= years[1])
        return rows, rows[self.first] & rows[self.second], rows[self.first2] & rows[self.second2]


def _wsd(x: np.ndarray, w: np.ndarray) -> float:
    total = w.sum()
    if total < 3:
        return float("nan")
    mean = (w * x).sum() / total
    return float(np.sqrt((w * (x - mean) ** 2).sum() / (total - 1)))


def _wcorr(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    total = w.sum()
    if total < 4:
        return float("nan")
    cx, cy = x - (w * x).sum() / total, y - (w * y).sum() / total
    return float((w * cx * cy).sum() / np.sqrt((w * cx * cx).sum() * (w * cy * cy).sum()))


def statistics(design: PanelDesign, years: tuple[int, int], weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The statistics of the ACO-years in ``years`` (first and last PY), with frequency
    ``weights`` per ACO-year (a bootstrap replicate; 1 by default).

    Returns
    -------
    dict
        ``sd``, ``sd_change``, ``corr_within``, ``corr_across``, ``corr_lag2`` each an array
        of 6: the five bands, then all sizes pooled; ``rows``, ``pairs``, ``within``,
        ``across``, ``lag2`` their sample sizes (weighted); ``median_n`` the bands' median
        assigned beneficiaries. SDs in percentage points.
    """
    w = np.ones(design.year.size) if weights is None else np.asarray(weights, dtype=float)
    rows, pairs, pairs2 = design.in_years(years)
    dsr = np.full(design.sr.size, np.nan)
    for y in np.unique(design.year[rows]):
        m = design.year == y
        if w[m].sum() > 0:
            dsr[m] = design.sr[m] - (w[m] * design.sr[m]).sum() / w[m].sum()
    d0, d1 = dsr[design.first], dsr[design.second]
    e0, e1 = dsr[design.first2], dsr[design.second2]
    wp, wp2 = w[design.first], w[design.first2]
    band_p, band_p2 = design.band[design.first], design.band[design.first2]
    out: dict[str, list[float]] = {k: [] for k in ("sd", "sd_change", "corr_within", "corr_across", "corr_lag2",
                                                   "rows", "pairs", "within", "across", "lag2", "median_n")}
    for b in [*range(BANDS), None]:
        r = rows & ((design.band == b) if b is not None else True)
        p = pairs & ((band_p == b) if b is not None else True)
        p2 = pairs2 & ((band_p2 == b) if b is not None else True)
        within, across, lag2 = p & (design.kind == "within"), p & (design.kind == "across"), \
            p2 & (design.kind2 == "within")
        out["sd"].append(_wsd(dsr[r], w[r]))
        out["sd_change"].append(_wsd(d1[p] - d0[p], wp[p]) / np.sqrt(2.0))
        out["corr_within"].append(_wcorr(d0[within], d1[within], wp[within]))
        out["corr_across"].append(_wcorr(d0[across], d1[across], wp[across]))
        out["corr_lag2"].append(_wcorr(e0[lag2], e1[lag2], wp2[lag2]))
        out["rows"].append(float(w[r].sum()))
        out["pairs"].append(float(wp[p].sum()))
        out["within"].append(float(wp[within].sum()))
        out["across"].append(float(wp[across].sum()))
        out["lag2"].append(float(wp2[lag2].sum()))
        out["median_n"].append(float(np.median(design.n_ab[r])) if r.any() else float("nan"))
    return {k: np.array(v) for k, v in out.items()}


def target_vector(stats: dict[str, np.ndarray]) -> np.ndarray:
    """The fitted statistics in a fixed order: SD by band (5), SD of the change by band
    (5), then the pooled within-agreement, across-rebasing and lag-2 correlations."""
    return np.concatenate([stats["sd"][:BANDS], stats["sd_change"][:BANDS],
                           [stats[k][BANDS] for k in POOLED_STATISTICS]])


def bootstrap(design: PanelDesign, years: tuple[int, int], replicates: int,
              seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """Replicates of `target_vector` over ACOs resampled with replacement, shape (R, 13)."""
    rng = np.random.default_rng(seed)
    clusters = int(design.cluster.max()) + 1
    out = np.empty((replicates, 2 * BANDS + len(POOLED_STATISTICS)))
    for r in range(replicates):
        counts = np.bincount(rng.integers(0, clusters, clusters), minlength=clusters).astype(float)
        out[r] = target_vector(statistics(design, years, counts[design.cluster]))
    return out


def band_sizes(design: PanelDesign, years: tuple[int, int]) -> list[np.ndarray]:
    """The assigned beneficiaries of each band's ACO-years in ``years``."""
    rows, _, _ = design.in_years(years)
    return [design.n_ab[rows & (design.band == b)] for b in range(BANDS)]


def layout(design: PanelDesign, years: tuple[int, int], agreement_years: int) -> dict[str, dict[str, float]]:
    """How the sample's ACO-years and pairs fall by agreement (first or later) and year of
    the agreement, each clipped to what an agreement of ``agreement_years`` years has.

    Returns
    -------
    dict
        ``rows``: ``{"first 0": count, "later 2": count, ...}``; ``within`` (by the pair's
        first year), ``lag2`` likewise; ``pairs``: counts of ``within`` and ``across``
        pairs (pairs of unknown kind count as within).
    """
    rows, pairs, pairs2 = design.in_years(years)

    def cells(mask: np.ndarray, at: np.ndarray, top: int) -> dict[str, float]:
        out: dict[str, float] = {}
        for r, j in zip(design.renewal[at[mask]], np.minimum(design.position[at[mask]], top)):
            key = f"{'later' if r else 'first'} {j}"
            out[key] = out.get(key, 0.0) + 1.0
        return dict(sorted(out.items()))

    everything = np.arange(design.year.size)
    within = pairs & (design.kind != "across")
    return {
        "rows": cells(rows, everything, agreement_years - 1),
        "within": cells(within, design.first, agreement_years - 2),
        "lag2": cells(pairs2 & (design.kind2 == "within"), design.first2, agreement_years - 3),
        "pairs": {"within": float(within.sum()), "across": float((pairs & (design.kind == "across")).sum())},
    }
