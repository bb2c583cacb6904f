"""Stage 1, what the user wrote: the scenario schema, its loading, its data files, edits by path.

* `simsuite.scenario.schema`: every section and field (pydantic, strict);
* `simsuite.scenario.load`: `load_scenario`, `scenario_from_dict`, `Scenario`;
* `simsuite.scenario.owndata`: the organisation's patients and costs CSV files;
* `simsuite.scenario.edit`: one field changed by dotted path, re-validated (sweeps).

Loading and validating a scenario imports no Numba and no xarray.
"""

from simsuite.scenario.load import Scenario, load_scenario, scenario_from_dict

__all__ = ["Scenario", "load_scenario", "scenario_from_dict"]
