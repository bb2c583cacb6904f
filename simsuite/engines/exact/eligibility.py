"""Which scenarios the exact method can compute, and why not (one line per problem).

The method needs independent beneficiaries with the parametric cost model, a fixed
quality score, and contracts whose settlement is a function of one panel total
(capped, uncapped or under specific stop-loss), of independent episode categories, or
of nothing random at all. Each family says which (`simsuite.contracts.Family.exact`);
scenario fields are checked against an allow-list, so a new model feature is refused
until someone teaches the exact method about it.
"""

from __future__ import annotations

from pydantic import BaseModel

from simsuite.errors import InputError
from simsuite.scenario.load import Scenario

# Scenario fields whose meaning the exact method implements. Any other field that a
# scenario sets to a non-default value (e.g. a systemic shock or a bootstrap
# cost source) makes the scenario ineligible, so new model features are refused
# until someone teaches this module about them. Dotted paths; a path covers its
# whole subtree.
EXACT_UNDERSTOOD_FIELDS: frozenset[str] = frozenset({
    "name",
    "description",
    "performance_year",
    "population.beneficiaries",
    "population.mix",
    "population.risk_score.cv",
    "population.patients_file",  # still independent parametric patients, scores from the file
    "cost_model.mean_cost",
    "cost_model.mean_cost_year",
    "cost_model.annual_trend",
    "cost_model.zero_cost_share",
    "cost_model.severity_sigma",
    "cost_model.tail_weight",
    "cost_model.body_sigma",
    "cost_model.tail_sigma",
    "cost_model.tail_mean_ratio",
    "cost_model.risk_elasticity",
    "cost_model.truncation_by_type",
    "assumptions.benchmark_margin",
    "assumptions.systemic_sd",  # one lognormal factor on the panel total: a quadrature (`systemic`)
    "assumptions.true_savings",
    "assumptions.quality_score",  # fixed; an uncertain score (quality_score_sd) is refused
    "assumptions.quality_standard",
    "assumptions.quality_threshold",
    "assumptions.agreement_start",
    "assumptions.participant_revenue_to_benchmark",
    "assumptions.low_revenue",
    "contracts",
    "run",
    "episodes",  # independent categories: Poisson or fixed counts, parametric episode costs
})

def _non_default_fields(model: BaseModel, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves of ``model`` that differ from their defaults."""
    out = []
    for name, field in type(model).model_fields.items():
        path = f"{prefix}{name}"
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            out.extend(_non_default_fields(value, path + "."))
            continue
        if field.is_required():
            out.append(path)
            continue
        if value != field.get_default(call_default_factory=True):
            out.append(path)
    return out


def _understood(path: str) -> bool:
    parts = path.split(".")
    return any(".".join(parts[:i]) in EXACT_UNDERSTOOD_FIELDS for i in range(1, len(parts) + 1))


# Why a Monte-Carlo-only feature of the population, uncertainty and own-data model is refused.
_MONTE_CARLO_ONLY: dict[str, str] = {
    "assumptions.cost_trend_sd": "a systemic cost-trend shock makes beneficiaries' costs dependent, "
                                 "which the exact method (independent beneficiaries) does not compute",
    "assumptions.benchmark_trend_sd": "a random benchmark trend is not supported by the exact method",
    "assumptions.trend_correlation": "a random benchmark trend is not supported by the exact method",
    "assumptions.benchmark_risk_score": "the benchmark's risk-growth cap is not supported by the exact method yet",
    "assumptions.demographic_risk_growth": "the benchmark's risk-growth cap is not supported by the exact method yet",
    "assumptions.risk_score_2019": "the benchmark's risk-growth cap is not supported by the exact method yet",
    "assumptions.care_management_pmpm": "effort costs are not supported by the exact method yet",
    "assumptions.ffs_margin_lost": "effort costs are not supported by the exact method yet",
    "cost_model.bootstrap_file": "costs resampled from a file (bootstrap) are not supported by the exact "
                                 "method (it needs the parametric cost model)",
}
for _section in ("horizon", "dynamics", "organisation", "trends", "risk_growth", "region"):
    # A horizon makes each year's total depend on the years before (persistent costs, a
    # benchmark built from simulated history): one distribution per year cannot say it.
    _MONTE_CARLO_ONLY[_section] = ("the years of an agreement depend on one another (persistent costs, a benchmark "
                                   "built from the simulated history), which the exact method does not compute")


def exact_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Why ``scenario`` cannot be computed exactly, as ``(field, problem)`` pairs (empty = it can).

    The method needs independent beneficiaries with the parametric cost model, a fixed
    quality score, and contracts whose settlement is a function of one panel total
    (capped, uncapped or under specific stop-loss) or of independent episode categories.
    """
    problems = [
        (path, "an uncertain quality score is not supported by the exact method (it needs a fixed "
               "quality_score); remove quality_score_sd or use Monte Carlo")
        if path == "assumptions.quality_score_sd" else
        (path, _MONTE_CARLO_ONLY[_section_of(path)] + "; use Monte Carlo") if _section_of(path) in _MONTE_CARLO_ONLY else
        (path, "is not supported by the exact method (it needs independent beneficiaries with "
               "the parametric cost model); use Monte Carlo")
        for path in _non_default_fields(scenario.spec)
        if not _understood(path) and path != "assumptions.alternative_standard_probability"
    ]
    p_alternative = scenario.spec.assumptions.alternative_standard_probability
    if p_alternative is not None and 0.0 < p_alternative < 1.0:
        problems.insert(0, ("assumptions.alternative_standard_probability",
                            "a random alternative quality standard (a probability strictly between 0 and 1) is not "
                            "supported by the exact method (it needs one fixed outcome: 0 or 1); use Monte Carlo"))
    if not isinstance(scenario.spec.assumptions.true_savings, (int, float)):
        problems.insert(0, ("assumptions.true_savings",
                            "uncertain true savings (mean and sd) are not supported by the exact method "
                            "(it needs a fixed true_savings); use Monte Carlo"))
    if scenario.spec.horizon is not None:
        return problems  # the horizon itself is refused above: the contracts are paths
    for i, contract in enumerate(scenario.single_year_contracts):
        where, name = f"contracts[{i}]", f"contract '{contract.name}' ({contract.family})"
        family = contract.spec
        if family.exact == "none":
            problems.append((where, f"{name} has no exact method; use Monte Carlo"))
            continue
        refusal = family.exact_refusal(contract.terms)
        if refusal is not None:
            problems.append((where, f"{name} {refusal}; use Monte Carlo"))
        if family.exact == "episodes" and not scenario.spec.episodes:
            problems.append(("episodes", f"{name} needs an episodes: section"))
    return problems


def _section_of(path: str) -> str:
    """``path`` itself if it names a Monte-Carlo-only field, else its top-level section."""
    return path if path in _MONTE_CARLO_ONLY else path.split(".")[0]


def check_exact(scenario: Scenario) -> None:
    """Raise `InputError` (one line) if ``scenario`` cannot be computed exactly."""
    problems = exact_problems(scenario)
    if problems:
        field, problem = problems[0]
        raise InputError(scenario.source, field, problem)
