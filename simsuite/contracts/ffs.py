"""Fee-for-service baseline: no settlement beyond ordinary claims payment."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from simsuite.contracts.base import CapSpec, PanelYear, Settlement
from simsuite.contracts.registry import Family, register_family


class FFSTerms(BaseModel):
    """The FFS baseline has no terms: the provider is paid its claims and nothing else."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def settle(terms: FFSTerms, panel: PanelYear) -> Settlement:
    """Zero settlement in every simulation (the reference point of a comparison)."""
    shape = np.shape(panel.expenditure)
    return Settlement(net=np.zeros(shape), gain_shared=np.zeros(shape, dtype=bool))


def caps(terms: FFSTerms) -> tuple[CapSpec, ...]:
    """FFS settles on nothing: no benchmark, no panel sum."""
    return ()


def reference_settlement(terms: FFSTerms) -> float:
    """Scalar reference, for tests: FFS pays nothing beyond claims. Dollars."""
    return 0.0


FAMILY = register_family(Family(
    name="ffs",
    title="fee-for-service baseline: no settlement (the reference point of a comparison)",
    terms=FFSTerms, settle=settle, caps=caps, reads=frozenset(), exact="constant",
    reference=reference_settlement,
))
