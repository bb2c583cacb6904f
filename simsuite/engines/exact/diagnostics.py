"""The exact method's self-checks, as typed records rather than string-keyed attributes.

Every distribution the method computes (a panel total under one cap, one episode
category's capped cost) gets a `TotalDiagnostics`: its lattice, the relative errors of
its mean and variance against the closed forms, and a bound on the probability it
leaves out. They travel with the results Dataset as one JSON attribute
(``exact_diagnostics``), written by `to_attrs` and read back by `diagnostics_of`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from simsuite.contracts.base import UNCAPPED, CapSpec, HighCostCap, PanelTotal

ATTRIBUTE = "exact_diagnostics"


@dataclass(frozen=True)
class TotalDiagnostics:
    """Self-checks of one computed distribution.

    Attributes
    ----------
    label : str
        What the distribution is, in words ("panel total capped at the 99th percentile").
    buckets : int
        Lattice points of its FFT.
    bucket_usd : float
        Lattice step, dollars.
    model_mean, model_sd : float
        Closed-form mean and standard deviation of the model, dollars.
    mean_rel_error, var_rel_error : float
        Relative errors of the computed mean and variance against the closed forms.
    aliasing_bound : float
        Bound on the probability outside the computed window (or left out).
    aliasing_bound_kind : str
        Which bound that is.
    nodes : int or None
        Band nodes (panel totals only).
    banding_var_rel_error, discretisation_var_rel_error : float or None
        The parts of the variance error due to banding and to the lattice (panel totals).
    trimmed_probability : float or None
        Probability of the lattice points dropped before settlement (panel totals).
    systemic_sd, quadrature_nodes : float or None, int or None
        A panel total times the one-year systemic factor (`simsuite.engines.exact.systemic`):
        the factor's log-sd and the nodes of its quadrature; the moments are then the
        product's.
    """

    label: str
    buckets: int
    bucket_usd: float
    model_mean: float
    model_sd: float
    mean_rel_error: float
    var_rel_error: float
    aliasing_bound: float
    aliasing_bound_kind: str
    nodes: int | None = None
    banding_var_rel_error: float | None = None
    discretisation_var_rel_error: float | None = None
    trimmed_probability: float | None = None
    systemic_sd: float | None = None
    quadrature_nodes: int | None = None

    def line(self) -> str:
        """One line for the command line's self-check report."""
        label = self.label if self.systemic_sd is None else \
            f"{self.label} x systemic factor, log-sd {self.systemic_sd:.4f}, {self.quadrature_nodes} nodes"
        return (f"self-check [{label}]: mean error {self.mean_rel_error:.1e}, variance error "
                f"{self.var_rel_error:.1e} (relative, against the closed form); aliasing bound "
                f"{self.aliasing_bound:.0e}; {self.buckets:,} buckets of ${self.bucket_usd:,.0f}")


def panel_label(total: PanelTotal) -> str:
    """Words for a panel total: "panel total capped at the 99th percentile", "... at $150,000 ..."."""
    parts = []
    if total.cap.percentile is not None:
        parts.append(f"the {100 * total.cap.percentile:g}th percentile")
    if total.cap.dollars is not None:
        parts.append(f"${total.cap.dollars:,.0f}")
    if total.cap == UNCAPPED:
        text = "panel total, uncapped"
    else:
        text = "panel total capped at " + " and ".join(parts)
    if total.coins > 0.0:
        text += f" with {100 * total.coins:g}% coinsurance above"
    return text


def episode_label(category: str, cap: HighCostCap) -> str:
    """Words for one episode category's capped cost."""
    limit = (f"the {100 * cap.value:g}th percentile" if cap.kind == "percentile"
             else f"mean + {cap.value:g} sd")
    return f"{category} episode cost capped at {limit}"


def to_attrs(diagnostics: list[TotalDiagnostics]) -> dict[str, str]:
    """The diagnostics as the Dataset attribute that carries them (JSON)."""
    return {ATTRIBUTE: json.dumps([asdict(d) for d in diagnostics])}


def diagnostics_of(attrs: dict[str, Any]) -> list[TotalDiagnostics]:
    """The diagnostics stored in a results Dataset's attributes (empty if none)."""
    known = {f.name for f in fields(TotalDiagnostics)}
    return [TotalDiagnostics(**{k: v for k, v in d.items() if k in known})
            for d in json.loads(attrs.get(ATTRIBUTE, "[]"))]


def cap_label(cap: CapSpec) -> str:
    """Short words for a per-beneficiary cap."""
    return panel_label(PanelTotal(cap))
