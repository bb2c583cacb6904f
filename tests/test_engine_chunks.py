"""Ranges of simulations computed separately join into exactly the single run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from simsuite.engines.montecarlo import options_for, simulate
from simsuite.results.arrays import SimulationArrays
from simsuite.results.dataset import assemble
from simsuite.scenario.load import load_scenario, scenario_from_dict

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent


def _with_shocks(sc):
    """The scenario with systemic shocks, uncertain savings and effort costs (parametric costs)."""
    data = yaml.safe_load(sc.text)
    data["assumptions"] = {**(data.get("assumptions") or {}), "cost_trend_sd": 0.03, "benchmark_trend_sd": 0.02,
                           "trend_correlation": 0.4, "true_savings": {"mean": 0.01, "sd": 0.01},
                           "care_management_pmpm": 3.0, "ffs_margin_lost": 0.2}
    return scenario_from_dict(data, source=sc.source)


def test_separately_computed_ranges_equal_one_run_bit_for_bit():
    # contract menu: four families, uncertain quality; TEAM: episodes; own data: bootstrap
    # costs, patients file, shocks, uncertain savings; the menu again with shocks
    menu = ROOT / "scenarios" / "aco-contract-menu.yaml"
    for name in ("aco-contract-menu.yaml", "team-joint-replacement.yaml", "aco-own-data.yaml", "shocks"):
        sc = _with_shocks(load_scenario(menu)) if name == "shocks" else load_scenario(ROOT / "scenarios" / name)
        whole_opts = replace(options_for(sc, sims=1000, seed=9), chunk=128)
        whole = simulate(sc, whole_opts)
        parts = [
            simulate(sc, replace(whole_opts, simulations=stop - start, first_sim=start, chunk=chunk))
            for start, stop, chunk in ((0, 300, 64), (300, 301, 16), (301, 1000, 500))
        ]
        joined = SimulationArrays.concatenate(parts[::-1])
        for field in ("net", "gain_shared", "expenditure", "benchmark", "panel_cost", "quality_score"):
            assert np.array_equal(getattr(whole, field), getattr(joined, field), equal_nan=True), (name, field)
        a = assemble(sc, whole_opts, whole)
        b = assemble(sc, whole_opts, joined)
        assert a.identical(b)
