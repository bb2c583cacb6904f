"""Risk measures of a sample of results, each with its Monte Carlo standard error.

Conventions (``shared/design.md``): money is from the provider's side (positive =
money to the provider); risk measures are taken on the loss ``L = -net``.

* ``VaR_p`` is the lower ``p``-quantile ``inf{x : F_L(x) >= p}`` of ``L``.
* ``TVaR_p`` is the Acerbi-Tasche tail mean
  ``(E[L 1{L > VaR}] + VaR (P(L <= VaR) - p)) / (1 - p)``, exact for a discrete
  sample, including any mass at ``VaR``.
"""

from __future__ import annotations

import math

import numpy as np

MEASURES: tuple[str, ...] = (
    "mean",
    "sd",
    "p_loss",
    "p_shared_savings",
    "VaR95",
    "TVaR95",
    "VaR99",
    "TVaR99",
)


def value_at_risk(loss: np.ndarray, p: float) -> float:
    """Lower ``p``-quantile of ``loss`` (dollars of loss; positive = a loss)."""
    return float(np.quantile(loss, p, method="inverted_cdf"))


def tail_value_at_risk(loss: np.ndarray, p: float) -> float:
    """Acerbi-Tasche expected shortfall at level ``p`` of the empirical distribution of ``loss``."""
    n = loss.size
    var = value_at_risk(loss, p)
    above = loss[loss > var]
    at_or_below = n - above.size
    return float((above.sum() + var * (at_or_below - n * p)) / (n * (1.0 - p)))


def var_standard_error(sorted_loss: np.ndarray, p: float) -> float:
    """Standard error of the VaR estimate from the order statistics around it.

    Half the distance between the order statistics one binomial standard deviation
    either side of rank ``n p``; distribution-free, and zero where the quantile sits
    on an atom of the distribution.
    """
    n = sorted_loss.size
    half_width = math.sqrt(n * p * (1.0 - p))
    lo = int(np.clip(math.floor(n * p - half_width), 0, n - 1))
    hi = int(np.clip(math.ceil(n * p + half_width), 0, n - 1))
    return float(sorted_loss[hi] - sorted_loss[lo]) / 2.0


def tvar_standard_error(loss: np.ndarray, p: float, var: float, tvar: float) -> float:
    """Asymptotic standard error of the tail-mean estimate.

    ``sqrt((Var(L | L >= VaR) + p (TVaR - VaR)**2) / (n (1 - p)))`` (Manistre and
    Hancock 2005).
    """
    tail = loss[loss >= var]
    tail_var = float(tail.var()) if tail.size > 1 else 0.0
    return math.sqrt((tail_var + p * (tvar - var) ** 2) / (loss.size * (1.0 - p)))


def summarize(net: np.ndarray, gain_shared: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
    """Every measure of `MEASURES` and its Monte Carlo standard error for one contract.

    Parameters
    ----------
    net : ndarray
        Money to the provider per simulation, dollars.
    gain_shared : ndarray of bool
        Whether shared savings were paid in each simulation.

    Returns
    -------
    values, standard_errors : dict
        Keyed by measure name. Probabilities are fractions; money is dollars.
    """
    net = np.asarray(net, dtype=float)
    n = net.size
    loss = -net
    sorted_loss = np.sort(loss)
    mean = float(net.mean())
    sd = float(net.std(ddof=1)) if n > 1 else 0.0
    m4 = float(np.mean((net - mean) ** 4))
    sd_se = math.sqrt(max(m4 - sd**4, 0.0) / (4.0 * sd * sd * n)) if sd > 0 else 0.0
    p_loss = float(np.mean(net < 0))
    p_gain = float(np.mean(gain_shared))

    values = {"mean": mean, "sd": sd, "p_loss": p_loss, "p_shared_savings": p_gain}
    errors = {
        "mean": sd / math.sqrt(n),
        "sd": sd_se,
        "p_loss": math.sqrt(p_loss * (1.0 - p_loss) / n),
        "p_shared_savings": math.sqrt(p_gain * (1.0 - p_gain) / n),
    }
    for level, tag in ((0.95, "95"), (0.99, "99")):
        var = value_at_risk(loss, level)
        tvar = tail_value_at_risk(loss, level)
        values[f"VaR{tag}"], values[f"TVaR{tag}"] = var, tvar
        errors[f"VaR{tag}"] = var_standard_error(sorted_loss, level)
        errors[f"TVaR{tag}"] = tvar_standard_error(loss, level, var, tvar)
    # Adding 0.0 turns any -0.0 (e.g. the loss of a contract that never loses) into 0.0.
    return {k: v + 0.0 for k, v in values.items()}, errors
