"""Fee-for-service baseline: no settlement beyond ordinary claims payment."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from simsuite.contracts.base import PanelYear, Settlement


class FFSTerms(BaseModel):
    """The FFS baseline has no terms: the provider is paid its claims and nothing else."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def settle(terms: FFSTerms, panel: PanelYear) -> Settlement:
    """Zero settlement in every simulation (the reference point of a comparison)."""
    shape = np.shape(panel.expenditure)
    return Settlement(net=np.zeros(shape), gain_shared=np.zeros(shape, dtype=bool))
