"""Field types shared by the contract families' terms schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

#: A rate or share as a fraction in [0, 1].
Rate = Annotated[float, Field(ge=0.0, le=1.0)]

#: Terms are strict (no coercion, no unknown keys, no NaN or infinity) and frozen.
STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)
