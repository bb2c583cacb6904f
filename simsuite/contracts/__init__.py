"""Stage 3, settlement rules: one module per payment family, presets as data.

Importing this package registers every family (`FAMILIES`). A family module declares
its terms schema, its vectorised ``settle``, its caps and inputs, its exact-method
support and its scalar reference, and registers itself (`register_family`); nothing
else in simsuite names a family.

* `simsuite.contracts.base`: what settlement reads (`PanelYear`) and returns (`Settlement`);
* `simsuite.contracts.registry`: `Family`, `FAMILIES`, `register_family`;
* `simsuite.contracts.presets`: the preset data files; `simsuite.contracts.contract`:
  `Contract`, `build_contract`, `build_custom_contract`;
* the families: `ffs`, `shared_savings`, `corridors`, `capitation`,
  `primary_care_first`, `quality_payments`, `episode_payments`, `shared_risk`;
* multi-year programs (`simsuite.contracts.programs`): `mssp_agreement` (the MSSP over
  agreement periods, built on `mssp_benchmark` and `mssp_rules`), `lead_agreement` (LEAD's
  ten years, built on `lead_rules`), `commercial_agreement` (commercial / Medicare Advantage
  shared risk by contract year, built on `shared_risk`).
* money outside settlement: `settlement_timing` (when a year's result is paid, by program),
  `mssp_cash` (MSSP dates, advance investment payments, prepaid shared savings).
"""

# The family modules and the multi-year programs register themselves on import.
from simsuite.contracts import (  # noqa: E402, F401  (imported for registration)
    capitation,
    commercial_agreement,
    corridors,
    episode_payments,
    ffs,
    lead_agreement,
    mssp_agreement,
    mssp_cash,
    primary_care_first,
    quality_payments,
    shared_risk,
    shared_savings,
)
from simsuite.contracts.contract import (  # noqa: E402
    Contract,
    build_contract,
    build_custom_contract,
    validate_terms,
)
from simsuite.contracts.episode_payments import priced_discount  # noqa: E402
from simsuite.contracts.presets import all_presets, get_preset
from simsuite.contracts.programs import (
    PROGRAMS,
    PathContract,
    PathPlan,
    Program,
    build_path_contract,
    register_program,
)
from simsuite.contracts.registry import FAMILIES, Family, register_family, unregister_family

__all__ = [
    "FAMILIES",
    "PROGRAMS",
    "PathContract",
    "PathPlan",
    "Program",
    "build_path_contract",
    "register_program",
    "Contract",
    "Family",
    "all_presets",
    "build_contract",
    "build_custom_contract",
    "get_preset",
    "priced_discount",
    "register_family",
    "unregister_family",
    "validate_terms",
]
