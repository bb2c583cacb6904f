"""The one builder of what a contract settles on (`PanelYear`), for every engine and figure.

The Monte Carlo engine, the exact method and the payoff figure all settle contracts on
a `PanelYear`; they differ only in where the per-simulation totals come from (kernel
draws, lattice points of an exact distribution, a grid of savings rates). Everything
else -- the benchmark rule, the caps and their expected totals, participant revenue,
the quality standard, episode totals -- is decided here, once.

The benchmark of a contract (dollars per year, before any contract discount) is the
expected panel cost under the contract's primary cap, without the organisation's
savings effort, times ``1 + benchmark_margin``; when a base-year risk score is given, each
cohort's part follows the panel's risk growth only as far as the contract's family caps
it (`simsuite.contracts.Family.risk_ratio`: MSSP, REACH and LEAD cap it, others do not).
A per-simulation trend factor multiplies it in the Monte Carlo engine.

Every `PanelYear` carries the scenario's `RuleFacts` and the assigned beneficiaries'
expected expenditure, which the families' rules read (quality standard, revenue status,
repayment mechanism); `SettlementInputs.rule_notes` and `SettlementInputs.guarantee` ask
the families what the run header and the results must say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from simsuite.contracts import Contract
from simsuite.contracts.base import UNCAPPED, CapSpec, EpisodeTotals, PanelTotal, PanelYear, RuleFacts
from simsuite.model.episode_costs import EpisodePricing, episode_caps
from simsuite.model.factors import risk_growth
from simsuite.model.population import CostSource, PanelArrays, build_panel
from simsuite.model.resampled_costs import BootstrapPanel
from simsuite.scenario.load import Scenario


def cap_specs(scenario: Scenario) -> list[CapSpec]:
    """Every distinct per-beneficiary cap some contract needs; the uncapped sum first."""
    specs = [UNCAPPED]
    for contract in scenario.contracts:
        specs += [c for c in contract.caps if c not in specs]
    return specs


def primary_cap(contract: Contract) -> CapSpec:
    """The cap that sets a contract's benchmark and expenditure (its first; uncapped if none)."""
    return contract.caps[0] if contract.caps else UNCAPPED


@dataclass(frozen=True)
class SettlementInputs:
    """Everything deterministic that settlement reads, for one scenario and one year.

    Attributes
    ----------
    scenario : Scenario
        The scenario.
    panel : PanelArrays
        The panel of beneficiaries (sizes, cohorts, risk scores, cost models).
    costs : CostSource
        Where caps and expected totals come from: ``panel``, or the organisation's
        cost history (`BootstrapPanel`).
    specs : list of CapSpec
        Every cap some contract needs, the uncapped sum first (`cap_specs`).
    caps : ndarray, shape (K, C)
        Each cap in dollars per beneficiary, per cohort.
    expected : dict of CapSpec to float
        Expected panel total under each cap without the organisation's effort, dollars.
    episodes : EpisodePricing or None
        The episode categories' prices, if some contract reads episodes.
    facts : RuleFacts
        What the contracts' rules read about the organisation (`Scenario.facts`).
    """

    scenario: Scenario
    panel: PanelArrays
    costs: CostSource
    specs: list[CapSpec]
    caps: np.ndarray
    expected: dict[CapSpec, float]
    episodes: EpisodePricing | None
    facts: RuleFacts

    @classmethod
    def of(cls, scenario: Scenario) -> SettlementInputs:
        """Build the panel (and the resampled costs, if any) and everything derived from it."""
        panel = build_panel(scenario.spec, scenario.patients)
        costs: CostSource = panel
        if scenario.cost_history is not None:
            costs = BootstrapPanel.build(panel.cohorts, panel.cohort_start, panel.risk_score,
                                         scenario.cost_history, national=panel)
        specs = cap_specs(scenario)
        caps = np.vstack([costs.caps_for(c) for c in specs])
        expected = {c: costs.expected_total(caps[k]) for k, c in enumerate(specs)}
        readers = [c for c in scenario.single_year_contracts if c.uses_episodes]
        pricing = EpisodePricing.of(scenario.spec.episodes, episode_caps(readers)) if readers else None
        return cls(scenario=scenario, panel=panel, costs=costs, specs=specs, caps=caps, expected=expected,
                   episodes=pricing, facts=scenario.facts)

    @property
    def bootstrap(self) -> BootstrapPanel | None:
        """The resampled costs, when costs come from the organisation's history."""
        return self.costs if isinstance(self.costs, BootstrapPanel) else None

    def caps_for_spec(self, cap: CapSpec) -> np.ndarray:
        """The per-cohort dollars of one of `specs`."""
        return self.caps[self.specs.index(cap)]

    def sums(self, totals: np.ndarray) -> dict[CapSpec, np.ndarray]:
        """Per-simulation panel sums by cap, from the kernel's ``(S, K)`` totals."""
        return {c: totals[:, k] for k, c in enumerate(self.specs)}

    def risk_factors(self, contract: Contract, by_cohort: np.ndarray) -> np.ndarray:
        """Each cohort's multiplier of its expected cost in ``contract``'s benchmark, float64[C].

        The expected cost follows the panel's current risk; the benchmark follows the risk
        ratio the contract's family allows (`Family.risk_ratio`), so the multiplier is the
        allowed ratio over the actual one (1 without a base-year score or a family cap).
        """
        hook = contract.spec.risk_ratio
        found = risk_growth(self.panel.cohort_start, self.panel.risk_score, self.panel.cohorts, by_cohort,
                            self.scenario.spec.assumptions, self.facts.agreement_start)
        if hook is None or found is None:
            return np.ones(by_cohort.shape)
        growth, group = found
        allowed = np.asarray(hook(contract.terms, growth), dtype=float)
        return (allowed / growth.hcc_ratio)[group]

    def benchmark(self, contract: Contract) -> float:
        """The contract's benchmark before any per-simulation trend factor, dollars per year."""
        a = self.scenario.spec.assumptions
        primary = primary_cap(contract)
        if a.benchmark_risk_score is None:
            expected_primary = self.expected[primary]
        else:
            # The family's cap on risk growth scales each cohort's part of the expected total.
            by_cohort = self.costs.expected_by_cohort(self.caps[self.specs.index(primary)])
            expected_primary = float(np.sum(by_cohort * self.risk_factors(contract, by_cohort)))
        return expected_primary * (1.0 + a.benchmark_margin)

    @property
    def assigned_expenditure(self) -> float:
        """The assigned beneficiaries' expected untruncated Parts A and B cost without the effort,
        dollars: what the low-revenue test (42 CFR 425.20) and the repayment mechanism
        (425.204(f)(4)) measure on the most recent full year."""
        return self.expected[UNCAPPED]

    def panel_year(self, contract: Contract, sums: Mapping[CapSpec, np.ndarray], quality: np.ndarray,
                   benchmark_factor: np.ndarray | float = 1.0,
                   episodes: EpisodeTotals | None = None,
                   alternative_draw: np.ndarray | None = None) -> PanelYear:
        """The `PanelYear` ``contract`` settles on, given per-simulation panel ``sums`` by cap.

        Parameters
        ----------
        contract : Contract
            One of the scenario's contracts.
        sums : mapping of CapSpec to ndarray
            Panel totals, dollars, shape ``(S,)``, under (at least) the contract's caps;
            the uncapped one, if present, is ``raw``.
        quality : ndarray
            Quality score of each simulation (fraction).
        benchmark_factor : float or ndarray
            Per-simulation factor of the benchmark (its update trend), mean 1.
        episodes : EpisodeTotals, optional
            Episode totals, for contracts that read episodes.
        alternative_draw : ndarray, optional
            One uniform per simulation for the alternative quality standard
            (`simsuite.model.factors.alternative_draws`); None without simulations.
        """
        a = self.scenario.spec.assumptions
        benchmark = self.benchmark(contract)
        revenue = (None if a.participant_revenue_to_benchmark is None
                   else a.participant_revenue_to_benchmark * benchmark)
        return PanelYear(
            n_beneficiaries=self.panel.size,
            benchmark=np.asarray(benchmark * benchmark_factor),
            expenditure=sums[primary_cap(contract)],
            quality_score=quality,
            quality_standard=a.quality_standard,
            participant_revenue=revenue,
            low_revenue=a.low_revenue,
            raw=sums.get(UNCAPPED),
            capped=sums,
            episodes=episodes,
            expected=self.expected,
            facts=self.facts,
            assigned_expenditure=self.assigned_expenditure,
            alternative_draw=alternative_draw,
        )

    def expected_year(self, contract: Contract) -> PanelYear:
        """``contract``'s `PanelYear` at the expected totals and the mean quality score (one point)."""
        sums = {c: np.array([v]) for c, v in self.expected.items()}
        return self.panel_year(contract, sums, np.array([self.scenario.spec.assumptions.quality_score]),
                               np.ones(1))

    def guarantee(self, contract: Contract) -> float | None:
        """The financial guarantee ``contract`` requires (MSSP repayment mechanism), dollars; None: none."""
        return contract.spec.guarantee(contract.terms, self.expected_year(contract))

    def rule_notes(self) -> tuple[str, ...]:
        """The rules in effect a reader of the results must know, one line each, without repeats:
        each family's (`Family.notes`), and which contracts are proposed or announced, not law."""
        lines: list[str] = []
        for contract in self.scenario.single_year_contracts:
            if contract.status in ("proposed", "announced"):
                lines.append(f"{contract.name}: {contract.status.upper()} rules, not law")
            lines += contract.spec.notes(contract.terms, self.expected_year(contract))
        return tuple(dict.fromkeys(lines))

    def episode_year(self, episodes: EpisodeTotals, quality: np.ndarray) -> PanelYear:
        """The `PanelYear` of contracts that read only episodes, for given episode totals.

        For the exact method's settlement points, which have no panel draws: the panel
        fields are zero (no contract that reads episodes reads them).
        """
        a = self.scenario.spec.assumptions
        zeros = np.zeros(episodes.count.shape[0])
        return PanelYear(n_beneficiaries=self.panel.size, benchmark=zeros, expenditure=zeros,
                         quality_score=quality, quality_standard=a.quality_standard, episodes=episodes,
                         facts=self.facts, assigned_expenditure=self.assigned_expenditure)

    def panel_year_at_total(self, contract: Contract, values: np.ndarray, quality: float) -> PanelYear:
        """The `PanelYear` of ``contract`` when the one total it depends on takes ``values``.

        For the exact method (lattice points of the total's distribution) and the payoff
        figure (a grid of spending). ``values`` stand for the contract's `PanelTotal`
        (`Family.exact_total`; the primary cap's sum otherwise): a hard-capped sum is
        passed as that sum; a total with coinsurance above the cap (specific stop-loss:
        claims ``R + coins (raw - R)``) is passed as both the raw and the capped sum, so
        the settlement's ``R + coins (raw - R)`` equals ``values``.
        """
        hook = contract.spec.exact_total
        total = hook(contract.terms) if hook is not None else PanelTotal(primary_cap(contract))
        values = np.asarray(values, dtype=float)
        is_raw = total.cap == UNCAPPED or total.coins > 0.0
        sums = {UNCAPPED: values, total.cap: values} if is_raw else {total.cap: values}
        if primary_cap(contract) not in sums:
            sums[primary_cap(contract)] = values
        year = self.panel_year(contract, sums, np.full(values.shape, quality), np.ones(values.shape))
        if not is_raw:  # a capped total does not determine the raw cost
            year = replace(year, raw=None)
        return year

    def episode_totals(self, count: np.ndarray, raw: np.ndarray, capped: np.ndarray) -> EpisodeTotals:
        """`EpisodeTotals` of the scenario's categories from counts and cost sums.

        Parameters
        ----------
        count : ndarray, shape (S, C)
            Episodes per simulation and category.
        raw : ndarray, shape (S, C)
            Uncapped cost sums, dollars.
        capped : ndarray, shape (S, C, K)
            Cost sums under each of the pricing's caps, dollars.
        """
        assert self.episodes is not None, "no contract of this scenario reads episodes"
        return self.episodes.totals(count, raw, capped)

    def episode_totals_at_rates(self, rates: np.ndarray) -> EpisodeTotals:
        """Episode totals at the expected volumes with every episode ``rate`` below its price.

        For the payoff figure: ``count = annual_volume``; each category's cost sums are
        ``count x (benchmark price) x (1 - rate)`` under each cap (uncapped: the mean cost).
        """
        p = self.episodes
        assert p is not None, "no contract of this scenario reads episodes"
        rates = np.asarray(rates, dtype=float)
        volume = np.array([s.annual_volume for s in p.specs])
        scale = (1.0 - rates)[:, None] * volume[None, :]
        count = np.broadcast_to(volume, (rates.size, volume.size)).copy()
        raw = scale * p.expected_raw[None, :]
        capped = scale[:, :, None] * p.expected_capped.T[None, :, :]
        return self.episode_totals(count, raw, capped)


def payoff_grid(scenario: Scenario, rates: np.ndarray) -> dict[str, np.ndarray]:
    """Each contract's settlement at each savings rate, dollars (positive = to the provider).

    Each contract is settled on its `PanelYear` with the total it depends on at
    ``benchmark x (1 - rate)`` (episode contracts: every episode ``rate`` below its
    price, at the expected volumes), with the scenario's quality score, revenue and
    panel size: the inputs the engine gives it, with the cost fixed.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    rates : ndarray
        Savings rates, fractions (0.02 = spending 2% below the benchmark).
    """
    inputs = SettlementInputs.of(scenario)
    rates = np.asarray(rates, dtype=float)
    q = scenario.spec.assumptions.quality_score
    out: dict[str, np.ndarray] = {}
    episodes = inputs.episode_totals_at_rates(rates) if inputs.episodes is not None else None
    for contract in scenario.single_year_contracts:
        if contract.uses_episodes:
            year = inputs.panel_year(contract, inputs.sums(np.zeros((rates.size, len(inputs.specs)))),
                                     np.full(rates.size, q), episodes=episodes)
        else:
            year = inputs.panel_year_at_total(contract, inputs.benchmark(contract) * (1.0 - rates), q)
        out[contract.name] = np.asarray(contract.settle(year).net, dtype=float)
    return out
