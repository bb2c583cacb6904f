"""Sweeps: the risk summary of every contract as one scenario field takes several values.

`sweep` re-validates the scenario with the field set to each value (so a bad value
gets the same checks as in a file) and runs it with the same seed: every point of a
sweep uses the same random streams (common random numbers), so the curves are smooth
and their differences are not noise. `sensitivity` is a small one-at-a-time sweep of
the uncertain assumptions, for the tornado chart.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import xarray as xr
import yaml
from pydantic import BaseModel

from simsuite.engine import RunOptions, options_for
from simsuite.engine import run as run_scenario
from simsuite.errors import InputError
from simsuite.ranking import RiskAppetite
from simsuite.scenario import Scenario, ScenarioSpec, scenario_from_dict
from simsuite.yamlfile import did_you_mean

PARAM = "--param"

#: One-at-a-time deltas of the tornado chart: (field path, delta, what it means).
SENSITIVITY_DELTAS: tuple[tuple[str, float, str], ...] = (
    ("assumptions.true_savings", 0.01, "true savings ±1 point"),
    ("assumptions.benchmark_margin", 0.01, "benchmark margin ±1 point"),
    ("assumptions.quality_score", 0.05, "quality score ±5 points"),
    ("population.risk_score.cv", 0.2, "risk-score CV ±0.2"),
    ("cost_model.tail_weight", 0.02, "high-cost share ±2 points"),
    ("cost_model.annual_trend", 0.01, "annual cost trend ±1 point"),
)


def scenario_data(scenario: Scenario) -> dict:
    """The scenario as the plain dict it was loaded from (its YAML text, parsed)."""
    data = yaml.safe_load(scenario.text)
    if not isinstance(data, dict):
        raise InputError(scenario.source, "", "the scenario text is not a mapping")
    return data


def _check_path(parts: list[str], path: str) -> None:
    """Raise a one-line `InputError` unless ``parts`` walks the scenario schema.

    Free-form mappings (contract ``overrides``) are not checked here: the contract's
    own validation names unknown terms when the scenario is re-validated.
    """
    kind: Any = ScenarioSpec
    for i, part in enumerate(parts):
        where = ".".join(parts[:i]) or "the scenario"
        if kind is dict:
            return
        if isinstance(kind, tuple):  # ("list", item kind): the part must be an index
            if not part.isdigit():
                raise InputError(PARAM, path, f"'{where}' is a list: give an index, e.g. {where}.0")
            kind = kind[1]
            continue
        if not (isinstance(kind, type) and issubclass(kind, BaseModel)):
            raise InputError(PARAM, path, f"'{where}' is a value, not a section")
        fields = kind.model_fields
        if part not in fields:
            raise InputError(PARAM, path, f"unknown field '{part}' in {where}{did_you_mean(part, list(fields))}")
        annotation = fields[part].annotation
        kind = _field_kind(annotation)
    # A field that is a number or a section (true_savings: 0.02 or {mean, sd}) takes a number.
    if kind is not None and not _admits_value(annotation):
        raise InputError(PARAM, path, "names a whole section or list; give a field inside it")


def _admits_value(annotation: Any) -> bool:
    """Whether a union field also accepts a plain value (a number, text) besides a section."""
    args = getattr(annotation, "__args__", ())
    return any(a is not type(None) and not (isinstance(a, type) and issubclass(a, BaseModel))
               and getattr(a, "__origin__", None) not in (list, dict) for a in args)


def _field_kind(annotation: Any) -> Any:
    """What a field holds: its model class, ``("list", item kind)``, ``dict``, or ``None`` (a value)."""
    origin = getattr(annotation, "__origin__", None)
    args = getattr(annotation, "__args__", ())
    if origin is list:
        return ("list", _field_kind(args[0]) if args else None)
    if origin is dict:
        return dict
    for c in (annotation, *args):
        if isinstance(c, type) and issubclass(c, BaseModel):
            return c
        if getattr(c, "__origin__", None) is not None and c is not annotation:
            inner = _field_kind(c)
            if inner is not None:
                return inner
    return None


def with_value(data: dict, path: str, value: Any) -> dict:
    """A deep copy of scenario ``data`` with the field at dotted ``path`` set to ``value``.

    Raises
    ------
    InputError
        ``--param``: the path is not a field of the scenario schema.
    """
    parts = path.split(".")
    if not path or any(not p for p in parts):
        raise InputError(PARAM, path, "give a dotted field path such as population.beneficiaries")
    _check_path(parts, path)
    out = copy.deepcopy(data)
    node: Any = out
    for part in parts[:-1]:
        if isinstance(node, list):
            index = int(part)
            if index >= len(node):
                raise InputError(PARAM, path, f"index {index} is out of range (the list has {len(node)} items)")
            node = node[index]
        else:
            node = node.setdefault(part, {})
            if node is None:  # an empty section in YAML loads as None
                node = {}
    if isinstance(node, list):
        raise InputError(PARAM, path, "cannot replace a whole list item")
    node[parts[-1]] = value
    return out


def scenario_with(scenario: Scenario, path: str, value: Any) -> Scenario:
    """``scenario`` with one field changed, validated as a scenario file would be.

    Raises
    ------
    InputError
        One line naming ``--param``, the path and the value, e.g.
        ``--param: population.beneficiaries=-5: Input should be greater than 0``.
    """
    data = with_value(scenario_data(scenario), path, value)
    try:
        return scenario_from_dict(data, source=scenario.source)
    except InputError as exc:
        raise InputError(PARAM, f"{path}={value!r}", f"{exc.field}: {exc.problem}" if exc.field != path else exc.problem) from None


def parse_values(text: str) -> list[Any]:
    """Sweep values from ``"1000,2000,5000"`` (each item read as YAML: 0.01, true, 5000).

    Raises
    ------
    InputError
        ``--values`` is empty or an item is empty.
    """
    items = [s.strip() for s in str(text).split(",")]
    if not items or any(not s for s in items):
        raise InputError("--values", "", f"give comma-separated values such as 1000,2000,5000 (got {text!r})")
    return [yaml.safe_load(s) for s in items]


@dataclass(frozen=True)
class Crossing:
    """Where a measure of one contract crosses a limit along a sweep.

    ``at`` is linearly interpolated between the sweep values either side
    (``between``); ``direction`` says how the measure moves across the limit as the
    swept value grows ("falls below" / "rises above").
    """

    contract: str
    measure: str
    limit: float
    at: float
    between: tuple[float, float]
    direction: str


def sweep(scenario: Scenario, param_path: str, values: Sequence[Any], options: RunOptions | None = None,
          progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """Run ``scenario`` once per value of the field ``param_path``.

    Parameters
    ----------
    scenario : Scenario
        The base scenario.
    param_path : str
        Dotted field path, e.g. ``population.beneficiaries``, ``assumptions.true_savings``,
        ``contracts.2.overrides.msr``.
    values : sequence
        Values of the field (validated as in a scenario file).
    options : RunOptions, optional
        Simulations, seed and threads (the scenario's by default); the chunk size is
        re-derived per point (it depends on the panel size and never changes results).
    progress : callable, optional
        Called with the number of simulations finished, summed over all points.

    Returns
    -------
    xarray.Dataset
        ``summary(sweep, contract, measure)`` and ``summary_se`` (as in
        `simsuite.results`), ``benchmark(sweep, contract)`` in dollars; coordinate
        ``sweep`` holds the values, attribute ``param`` the path.

    Raises
    ------
    InputError
        A bad path or value (one line naming ``--param``).
    """
    if len(values) == 0:
        raise InputError("--values", "", "give at least one value")
    scenarios = [scenario_with(scenario, param_path, v) for v in values]  # validate all before running
    base = options or options_for(scenario)
    points = []
    for sc in scenarios:
        opts = options_for(sc, sims=base.simulations, seed=base.seed, threads=base.threads)
        ds = run_scenario(sc, opts, progress)
        points.append(ds[["summary", "summary_se", "benchmark"]])
    return combine_points(scenario, param_path, values, base, points)


def combine_points(scenario: Scenario, param_path: str, values: Sequence[Any], base: RunOptions,
                   points: list[xr.Dataset]) -> xr.Dataset:
    """The sweep Dataset from each point's ``summary``, ``summary_se`` and ``benchmark``
    (in the order of ``values``); shared by local and distributed sweeps."""
    out = xr.concat(points, dim="sweep", coords="minimal", compat="override", join="outer")
    out = out.assign_coords(sweep=("sweep", _coordinate(values), {"long_name": param_path}))
    out.attrs = {
        "title": scenario.spec.name,
        "param": param_path,
        "scenario_source": scenario.source,
        "scenario": scenario.text,
        "seed": base.seed,
        "simulations": base.simulations,
        "beneficiaries": scenario.spec.population.beneficiaries,
        "sign_convention": "positive = money to the provider; risk measures on loss = -net",
    }
    return out


def _coordinate(values: Sequence[Any]) -> np.ndarray:
    """Numbers as a float (or int) array, anything else as strings."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        arr = np.asarray(values)
        return arr.astype(np.int64) if all(isinstance(v, int) for v in values) else arr.astype(float)
    return np.asarray([str(v) for v in values])


def crossings(ds: xr.Dataset, appetite: RiskAppetite) -> list[Crossing]:
    """Every place where a contract's measure crosses one of ``appetite``'s limits.

    Needs a numeric ``sweep`` coordinate. Linear interpolation between the two sweep
    values either side of the crossing; a measure equal to the limit at a sweep value
    counts as crossing there.
    """
    x = np.asarray(ds["sweep"].values)
    if not np.issubdtype(x.dtype, np.number):
        return []
    order = np.argsort(x)
    x = x[order].astype(float)
    found = []
    for lim in appetite.limits():
        for name in ds["contract"].values:
            y = ds["summary"].sel(contract=name, measure=lim.measure).values[order]
            d = y - lim.value
            for i in range(len(x) - 1):
                if d[i] == 0 or d[i] * d[i + 1] < 0 or (d[i + 1] == 0 and i == len(x) - 2):
                    if d[i] == d[i + 1]:
                        continue
                    at = x[i] + (x[i + 1] - x[i]) * (0.0 - d[i]) / (d[i + 1] - d[i])
                    direction = "rises above" if d[i + 1] > d[i] else "falls below"
                    found.append(Crossing(str(name), lim.measure, lim.value, float(at), (float(x[i]), float(x[i + 1])), direction))
    return found


def sensitivity(scenario: Scenario, options: RunOptions | None = None,
                deltas: Sequence[tuple[str, float, str]] = SENSITIVITY_DELTAS,
                progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """One-at-a-time sensitivity of every measure to each uncertain assumption.

    Each field is moved by ``-delta`` and ``+delta`` from the scenario's value (clipped
    to its valid range, e.g. a quality score stays in [0, 1]), all else fixed, with
    the same seed as the base run.

    Returns
    -------
    xarray.Dataset
        ``summary(factor, side, contract, measure)`` with ``side`` = ``low``/``high``,
        ``base(contract, measure)`` (the unchanged scenario), ``summary_se`` and
        ``base_se``; coordinates ``label(factor)``, ``low_value(factor)`` and
        ``high_value(factor)``.
    """
    options = options or options_for(scenario)
    spec = ScenarioSpec.model_validate(scenario_data(scenario))  # defaults filled in
    base_ds = run_scenario(scenario, options, progress)
    rows, rows_se, lows, highs = [], [], [], []
    for path, delta, _ in deltas:
        if path == "assumptions.true_savings" and not isinstance(spec.assumptions.true_savings, (int, float)):
            path += ".mean"  # uncertain savings ({mean, sd}): move the mean
        current = _get(spec, path)
        lo, hi = _clipped(path, current - delta), _clipped(path, current + delta)
        lows.append(lo)
        highs.append(hi)
        sides = [sweep(scenario, path, [v], options, progress).isel(sweep=0) for v in (lo, hi)]
        rows.append(xr.concat([s["summary"] for s in sides], dim="side"))
        rows_se.append(xr.concat([s["summary_se"] for s in sides], dim="side"))
    factors = [p for p, _, _ in deltas]
    return xr.Dataset(
        {
            "summary": xr.concat(rows, dim="factor").drop_vars("sweep", errors="ignore"),
            "summary_se": xr.concat(rows_se, dim="factor").drop_vars("sweep", errors="ignore"),
            "base": base_ds["summary"],
            "base_se": base_ds["summary_se"],
        },
        coords={
            "factor": factors,
            "side": ["low", "high"],
            "label": ("factor", [lab for _, _, lab in deltas]),
            "low_value": ("factor", lows),
            "high_value": ("factor", highs),
        },
        attrs={"title": scenario.spec.name, "simulations": options.simulations, "seed": options.seed,
               "beneficiaries": scenario.spec.population.beneficiaries},
    )


def _get(spec: ScenarioSpec, path: str) -> float:
    node: Any = spec
    for part in path.split("."):
        node = getattr(node, part)
    return float(node)


# Valid ranges of the sensitivity fields (open bounds nudged inwards), from `simsuite.scenario`.
_RANGES = {
    "assumptions.true_savings": (-0.499, 0.499),
    "assumptions.true_savings.mean": (-0.499, 0.499),
    "assumptions.benchmark_margin": (-0.499, 0.499),
    "assumptions.quality_score": (0.0, 1.0),
    "population.risk_score.cv": (0.0, 5.0),
    "cost_model.tail_weight": (0.0, 0.999),
    "cost_model.annual_trend": (-0.499, 0.499),
}


def _clipped(path: str, value: float) -> float:
    lo, hi = _RANGES.get(path, (-np.inf, np.inf))
    return float(np.clip(value, lo, hi))


def sweep_table(ds: xr.Dataset) -> str:
    """Plain-text table of a sweep: per value and contract, expected result, P(loss), VaR95."""
    from simsuite.summary_table import money

    param = ds.attrs.get("param", "value")
    header = [param, "contract", "expected result", "P(loss)", "1-in-20 loss (VaR95)"]
    rows = [header]
    for x in ds["sweep"].values:
        for name in ds["contract"].values:
            v = ds["summary"].sel(sweep=x, contract=name)
            e = ds["summary_se"].sel(sweep=x, contract=name)
            rows.append([
                f"{x:,}" if isinstance(x, (int, np.integer)) else str(x),
                str(name),
                f"{money(float(v.sel(measure='mean')))} ±{money(float(e.sel(measure='mean'))).lstrip('$')}",
                f"{100 * float(v.sel(measure='p_loss')):.1f}% ±{100 * float(e.sel(measure='p_loss')):.1f}",
                f"{money(float(v.sel(measure='VaR95')))} ±{money(float(e.sel(measure='VaR95'))).lstrip('$')}",
            ])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for j, r in enumerate(rows):
        lines.append("  ".join([r[0].rjust(widths[0]), r[1].ljust(widths[1])] + [c.rjust(w) for c, w in zip(r[2:], widths[2:])]))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def crossing_text(c: Crossing, param: str) -> str:
    """One sentence, e.g. "BASIC E: 1-in-20 loss rises above your $1.00M limit at about
    7,400 (population.beneficiaries, between 5,000 and 10,000)"."""
    from simsuite.ranking import Limit

    lim = Limit(c.measure, c.limit, upper=c.measure != "mean")
    where = (f"about {_num(c.at)} beneficiaries" if param == "population.beneficiaries"
             else f"{param} ≈ {_num(c.at)}")
    return (f"{c.contract}: {lim.label} {c.direction} your {lim.show(c.limit)} "
            f"{'limit' if lim.upper else 'floor'} at {where} "
            f"(between {_num(c.between[0])} and {_num(c.between[1])}; linear interpolation)")


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"

