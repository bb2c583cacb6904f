"""simsuite: Monte Carlo simulation of value-based payment contracts.

Public API::

    import simsuite
    scenario = simsuite.load_scenario("scenarios/aco-5000.yaml")
    ds = simsuite.run(scenario)          # xarray Dataset, dims (contract, sim)
    ds["summary"].to_pandas()            # mean, sd, P(loss), VaR/TVaR ... per contract
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# Names are imported on first use (PEP 562) so that `simsuite` on the command line starts
# its error handling before numba and xarray load.
_PUBLIC = {
    "RunOptions": "simsuite.engine",
    "run": "simsuite.engine",
    "Scenario": "simsuite.scenario",
    "load_scenario": "simsuite.scenario",
    "scenario_from_dict": "simsuite.scenario",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'simsuite' has no attribute {name!r}")
