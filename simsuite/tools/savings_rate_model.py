"""The variance model's savings-rate statistics, as `simsuite.tools.variance_targets` measures
CMS's, computed with the multi-year engine.

A *world* is an ACO followed over two agreement periods by the multi-year engine
(`simsuite.engines.agreement`): its benchmark built from its simulated benchmark years,
updated and rebased by the MSSP rules, the ENHANCED path settling it. Two worlds:

* ``in_sample``: agreements of three performance years, as the agreements of PY2013-2021
  mostly were (the first from 2012-2016, renewals from 2016 on);
* ``current``: agreements of five performance years (July 2019 on), for PY2022-2024 and
  for the one-year defaults.

The savings rate of each performance year is ``100 (benchmark - expenditure) / benchmark``
(percentage points), less its mean over simulations (as CMS's is less its year's mean: a
national shock is common to every ACO of a year, so the worlds have none).

Two parts, independent of each other, make up its covariance across years, and the
statistics of a size band are computed from that covariance:

* **claims** (with beneficiaries' persistence and churn, and the benchmark noise their
  benchmark years carry): the engine draws it once, at `REFERENCE_BENEFICIARIES`, with
  every systemic part off; its covariance is proportional to ``1 / N`` (a panel of ``N``
  exchangeable beneficiaries), so a band's part is the reference's times the band's mean
  of ``N_ref / N``;
* **systemic** (the organisation's AR(1) performance, and the regional trend when given):
  the engine's settlement run on the panel's *expected* spending moved by the drawn
  factors (no claims noise), each cap's total moving by that cap's elasticity to a common
  log shift (the kernel applies the factors before the caps). A band's sd is the
  reference sd times the band's root mean of ``(N / N_ref) ** (-2 size_exponent)``.

`verify` runs the real engine, both parts together, to check this decomposition.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from simsuite.contracts.base import UNCAPPED
from simsuite.engines.agreement import AgreementDraws, draw_agreement, settle_agreement
from simsuite.engines.montecarlo import RunOptions
from simsuite.model.costmodel import expected_capped_cost
from simsuite.model.dynamics import year_factors
from simsuite.results.arrays import AgreementArrays
from simsuite.scenario.load import Scenario, scenario_from_dict
from simsuite.tools.variance_targets import BANDS

REFERENCE_BENEFICIARIES = 10_000
#: First performance year of the simulated agreements (the engine's MSSP rules start in 2024).
START = 2024
#: Performance years of each agreement in each world.
WORLDS = {"in_sample": 3, "current": 5}
_ELASTICITY_STEP = 1e-3


@dataclass(frozen=True)
class Parameters:
    """The systemic parts at the reference size.

    Attributes
    ----------
    performance_sd : float
        Stationary log-sd of the organisation's AR(1) at `REFERENCE_BENEFICIARIES`.
    performance_ar : float
        Its year-to-year coefficient.
    size_exponent : float
        ``performance_sd(N) = performance_sd (N / N_ref) ** -size_exponent``.
    regional_sd : float
        Yearly log-sd of the region's growth beyond the nation's (not fitted).
    """

    performance_sd: float
    performance_ar: float
    size_exponent: float
    regional_sd: float = 0.0

    def sd_at(self, size_factor: float) -> float:
        return self.performance_sd * size_factor


def world_scenario(world: str, beneficiaries: int, performance_sd: float = 0.0, performance_ar: float = 0.5,
                   regional_sd: float = 0.0) -> Scenario:
    """A world's ACO (see the module docstring) as a scenario: the default national panel,
    no savings effort, the quality standard met, ENHANCED over two agreements."""
    years = WORLDS[world]
    horizon: dict = {"agreement_start": START, "agreements": 2}
    if years < 5:
        horizon["early_renewal_after"] = years
    return scenario_from_dict({
        "name": f"variance model, {world} world",
        "population": {"beneficiaries": int(beneficiaries)},
        "horizon": horizon,
        "assumptions": {"quality_score": 0.9, "quality_standard": "met"},
        "organisation": {"performance_sd": float(performance_sd), "performance_ar": float(performance_ar),
                         "permanent_sd": 0.0},
        "trends": {"national_sd": 0.0, "regional_sd": float(regional_sd)},
        "contracts": [{"name": "ENHANCED", "path": {"program": "mssp", "track": "ENHANCED"}}],
    })


def savings_rates(scenario: Scenario, draws: AgreementDraws, options: RunOptions) -> np.ndarray:
    """Savings rate of every simulation and observed performance year, pp of the benchmark,
    shape (S, P): the world's two agreements of ``years_per_agreement`` years each."""
    return _observed(scenario, settle_agreement(scenario, draws, options))


def _observed(scenario: Scenario, arrays: AgreementArrays) -> np.ndarray:
    horizon = scenario.spec.horizon
    assert horizon is not None
    # The engine runs the last agreement its full five years even after an early renewal; the
    # PUF's three-year world observes only its first three (a year's draws do not depend on
    # the years simulated after it, so dropping them changes nothing before).
    observed = 2 * horizon.years_per_agreement
    return (100.0 * (arrays.benchmark[0] - arrays.expenditure[0]) / arrays.benchmark[0])[:, :observed]


@dataclass(frozen=True)
class ClaimsPart:
    """The claims part of a world at `REFERENCE_BENEFICIARIES`.

    Attributes
    ----------
    covariance : ndarray, shape (P, P)
        Covariance of the savings rates of the performance years, pp**2.
    one_year : ndarray, shape (P,)
        Variance of each year's spending over its mean, pp**2: what a one-year run's claims
        noise gives the savings rate (its benchmark is fixed).
    simulations : int
    """

    covariance: np.ndarray
    one_year: np.ndarray
    simulations: int


def claims_part(world: str, simulations: int, seed: int, threads: int | None = None) -> ClaimsPart:
    """Draw the claims part of ``world`` with the engine (every systemic part off)."""
    scenario = world_scenario(world, REFERENCE_BENEFICIARIES)
    options = RunOptions(simulations=simulations, seed=seed, threads=threads)
    draws = draw_agreement(scenario, options)
    arrays = settle_agreement(scenario, draws, options)
    sr = _observed(scenario, arrays)
    spent = (arrays.expenditure[0] / arrays.expenditure[0].mean(axis=0))[:, :sr.shape[1]]
    return ClaimsPart(covariance=np.cov(sr, rowvar=False), one_year=1.0e4 * spent.var(axis=0, ddof=1),
                      simulations=simulations)


class SystemicPart:
    """The systemic part of a world: settlement of the expected spending moved by the drawn
    factors, for any `Parameters` (common random numbers: the same normals every time)."""

    def __init__(self, world: str, simulations: int, seed: int) -> None:
        self.world = world
        self.options = RunOptions(simulations=simulations, seed=seed)
        self.base = world_scenario(world, REFERENCE_BENEFICIARIES)
        horizon = self.base.spec.horizon
        assert horizon is not None
        self.years = horizon.years
        from simsuite.engines.agreement import scenario_in_year
        from simsuite.engines.settlement_inputs import SettlementInputs

        self.by_year = [SettlementInputs.of(scenario_in_year(self.base, y)) for y in self.years]
        self.expected, self.elasticity = self._expected_totals()
        self.baseline = self._rates(0.0, 0.5, 0.0)  # no systemic part: the same in every simulation

    def _expected_totals(self) -> tuple[np.ndarray, np.ndarray]:
        """Expected totals by year, cap and cohort (dollars) and their elasticity to a
        common log shift of every beneficiary's cost, shape (Y, K, C) each."""
        shape = (len(self.years), *self.by_year[0].caps.shape)
        expected, elasticity = np.zeros(shape), np.ones(shape)
        for t, inputs in enumerate(self.by_year):
            panel = inputs.panel
            for k, cap in enumerate(inputs.specs):
                for c, model in enumerate(panel.models):
                    mu = panel.log_mean_expected[panel.cohort_start[c]:panel.cohort_start[c + 1]]
                    if mu.size == 0:
                        continue

                    def total(shift: float, mu: np.ndarray = mu, model=model, cap_c=inputs.caps[k, c]) -> float:
                        return float(np.sum(expected_capped_cost(mu + shift, model.severity, model.zero_share,
                                                                 cap_c)))

                    expected[t, k, c] = total(0.0)
                    if cap != UNCAPPED:
                        h = _ELASTICITY_STEP
                        elasticity[t, k, c] = (total(h) - total(-h)) / (2.0 * h * expected[t, k, c])
        return expected, elasticity

    def savings_rates(self, performance_sd: float, performance_ar: float, regional_sd: float = 0.0) -> np.ndarray:
        """Savings rates (pp, shape (S, P)) with no claims noise and these systemic parts, less
        those without any (each simulation's deviation due to the systemic parts alone)."""
        return self._rates(performance_sd, performance_ar, regional_sd) - self.baseline

    def _rates(self, performance_sd: float, performance_ar: float, regional_sd: float) -> np.ndarray:
        spec = self.base.spec.model_copy(update={
            "organisation": self.base.spec.organisation.model_copy(
                update={"performance_sd": performance_sd, "performance_ar": performance_ar}),
            "trends": self.base.spec.trends.model_copy(update={"regional_sd": regional_sd})})
        scenario = replace(self.base, spec=spec)
        o = self.options
        factors = year_factors(spec, self.years, o.simulations, o.seed, o.first_sim)
        deviation = factors.organisation + (factors.regional - factors.expected[None, :])  # (S, Y)
        totals = self.expected[None] * np.exp(self.elasticity[None] * deviation[:, :, None, None])
        return savings_rates(scenario, AgreementDraws(by_year=self.by_year, factors=factors, totals=totals), o)


@dataclass(frozen=True)
class Layout:
    """How a world's performance years and pairs are pooled, as a sample pools its ACO-years
    (`simsuite.tools.variance_targets.layout`): a weight per column and per pair."""

    rows: np.ndarray  # (P,) weights summing to 1
    within: list[tuple[int, int, float]]
    across: list[tuple[int, int, float]]
    lag2: list[tuple[int, int, float]]
    change: list[tuple[int, int, float]]  # every lag-1 pair, weights summing to 1

    @classmethod
    def of(cls, world: str, observed: dict[str, dict[str, float]]) -> Layout:
        years = WORLDS[world]
        label = [f"{'first' if p < years else 'later'} {p % years}" for p in range(2 * years)]

        def weights(cells: dict[str, float], pairs: list[tuple[int, int]]) -> list[tuple[int, int, float]]:
            counts = {label[i]: sum(label[a] == label[i] for a, _ in pairs) for i, _ in pairs}
            out = [(i, j, cells.get(label[i], 0.0) / counts[label[i]]) for i, j in pairs]
            total = sum(w for _, _, w in out)
            return [(i, j, w / total) for i, j, w in out]

        row_cells = observed["rows"]
        columns = np.array([row_cells.get(label[p], 0.0) / sum(x == label[p] for x in label)
                            for p in range(2 * years)])
        within = weights(observed["within"], [(p, p + 1) for p in range(2 * years - 1) if (p + 1) % years])
        lag2 = weights(observed["lag2"], [(p, p + 2) for p in range(2 * years - 2) if p // years == (p + 2) // years])
        across = [(years - 1, years, 1.0)]
        share = observed["pairs"]["within"] / (observed["pairs"]["within"] + observed["pairs"]["across"])
        change = [(i, j, w * share) for i, j, w in within] + [(i, j, w * (1 - share)) for i, j, w in across]
        return cls(rows=columns / columns.sum(), within=within, across=across, lag2=lag2, change=change)


def band_statistics(covariances: list[np.ndarray], layout: Layout, pair_counts: dict[str, np.ndarray]
                    ) -> dict[str, np.ndarray]:
    """The statistics of `simsuite.tools.variance_targets.statistics` from each band's
    covariance of savings rates (pp**2), pooled as ``layout`` says; correlations pooled over
    bands weigh each band by its observed pairs (``pair_counts``: ``within``, ``across``,
    ``lag2`` by band)."""
    sd, change = [], []
    sums: dict[str, list[np.ndarray]] = {k: [] for k in ("within", "across", "lag2")}
    for k in covariances:
        sd.append(np.sqrt(np.dot(layout.rows, np.diag(k))))
        change.append(np.sqrt(sum(w * (k[i, i] + k[j, j] - 2 * k[i, j]) for i, j, w in layout.change) / 2.0))
        for name, pairs in (("within", layout.within), ("across", layout.across), ("lag2", layout.lag2)):
            sums[name].append(np.array([sum(w * k[i, j] for i, j, w in pairs), sum(w * k[i, i] for i, j, w in pairs),
                                        sum(w * k[j, j] for i, j, w in pairs)]))
    out = {"sd": np.array(sd + [np.nan]), "sd_change": np.array(change + [np.nan])}
    for name, parts in sums.items():
        per_band = [c / np.sqrt(a * b) for c, a, b in parts]
        weight = pair_counts[name][:BANDS]
        pooled = sum(w * p for w, p in zip(weight, parts))
        out[f"corr_{name}"] = np.array(per_band + [pooled[0] / np.sqrt(pooled[1] * pooled[2])])
    return out


@dataclass(frozen=True)
class BandScales:
    """Per band: the claims covariance's scale ``mean(N_ref / N)`` and the sizes themselves."""

    claims: np.ndarray
    sizes: list[np.ndarray]

    @classmethod
    def of(cls, sizes: list[np.ndarray]) -> BandScales:
        return cls(claims=np.array([np.mean(REFERENCE_BENEFICIARIES / n) for n in sizes]), sizes=sizes)

    def systemic(self, exponent: float) -> np.ndarray:
        """Per band: the root mean of ``(N / N_ref) ** (-2 exponent)``."""
        return np.array([np.sqrt(np.mean((n / REFERENCE_BENEFICIARIES) ** (-2.0 * exponent))) for n in self.sizes])

    def harmonic(self) -> np.ndarray:
        """Per band: the size whose claims variance is the band's mean (harmonic mean)."""
        return REFERENCE_BENEFICIARIES / self.claims


def model_statistics(parameters: Parameters, claims: ClaimsPart, systemic: SystemicPart, scales: BandScales,
                     layout: Layout, pair_counts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The statistics of the variance model with ``parameters`` (see the module docstring)."""
    covariances = []
    for c, s in zip(scales.claims, scales.systemic(parameters.size_exponent)):
        rates = systemic.savings_rates(parameters.sd_at(s), parameters.performance_ar, parameters.regional_sd)
        covariances.append(c * claims.covariance + np.cov(rates, rowvar=False))
    return band_statistics(covariances, layout, pair_counts)


def verify(world: str, parameters: Parameters, scales: BandScales, layout: Layout,
           pair_counts: dict[str, np.ndarray], simulations: int, seed: int,
           threads: int | None = None) -> dict[str, np.ndarray]:
    """The statistics from full engine runs, one per band at the band's harmonic-mean size
    with the band's systemic sd, claims and systemic parts drawn together."""
    covariances = []
    for size, s in zip(scales.harmonic(), scales.systemic(parameters.size_exponent)):
        scenario = world_scenario(world, int(round(size)), parameters.sd_at(s), parameters.performance_ar,
                                  parameters.regional_sd)
        options = RunOptions(simulations=simulations, seed=seed, threads=threads)
        rates = savings_rates(scenario, draw_agreement(scenario, options), options)
        covariances.append(np.cov(rates, rowvar=False))
    return band_statistics(covariances, layout, pair_counts)
