"""simsuite: Monte Carlo simulation of value-based payment contracts.

Public API::

    import simsuite
    scenario = simsuite.load_scenario("scenarios/aco-5000.yaml")
    ds = simsuite.run(scenario)          # xarray Dataset, dims (contract, sim)
    ds["summary"].to_pandas()            # mean, sd, P(loss), VaR/TVaR ... per contract
    simsuite.run_exact(scenario)         # the same summary from the exact (FFT) distribution
    simsuite.sweep(scenario, "population.beneficiaries", [2000, 5000, 20000])
    simsuite.rank(ds, simsuite.RiskAppetite(max_var95=1e6)).text()
    # a scenario with a horizon and a finance section: cash flows, NPV and the path to take
    simsuite.decide(ds, simsuite.RiskAppetite(max_p_loss=0.1, min_cash_balance=-3e6)).text()
    simsuite.write_workbook("results.xlsx", ds, scenario)

The package is laid out by pipeline stage (see ``ARCHITECTURE.md``): ``scenario`` ->
``model`` -> ``kernels`` -> ``contracts`` -> ``engines`` -> ``results`` -> ``analysis``
-> ``report`` -> ``cli``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# Names are imported on first use (PEP 562) so that `simsuite` on the command line starts
# its error handling before numba and xarray load.
_PUBLIC = {
    "RunOptions": "simsuite.engines.montecarlo",
    "run": "simsuite.engines.montecarlo",
    "run_exact": "simsuite.engines.exact",
    "Scenario": "simsuite.scenario.load",
    "load_scenario": "simsuite.scenario.load",
    "scenario_from_dict": "simsuite.scenario.load",
    "sweep": "simsuite.analysis.sweep",
    "sensitivity": "simsuite.analysis.sweep",
    "rank": "simsuite.analysis.ranking",
    "decide": "simsuite.analysis.decision",
    "option_values": "simsuite.analysis.decision",
    "ratchet_report": "simsuite.analysis.ratchet",
    "write_workbook": "simsuite.report.workbook",
    "RiskAppetite": "simsuite.scenario.schema",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'simsuite' has no attribute {name!r}")
