"""simsuite: Monte Carlo simulation of value-based payment contracts.

Public API::

    import simsuite
    scenario = simsuite.load_scenario("scenarios/aco-5000.yaml")
    ds = simsuite.run(scenario)          # xarray Dataset, dims (contract, sim)
    ds["summary"].to_pandas()            # mean, sd, P(loss), VaR/TVaR ... per contract
"""

__version__ = "0.1.0"

from simsuite.engine import RunOptions, run  # noqa: E402
from simsuite.scenario import Scenario, load_scenario, scenario_from_dict  # noqa: E402

__all__ = ["RunOptions", "Scenario", "__version__", "load_scenario", "run", "scenario_from_dict"]
