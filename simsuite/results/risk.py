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

#: Tail levels of `MEASURES` (and the default of `summarize`).
DEFAULT_LEVELS: tuple[float, ...] = (0.95, 0.99)


def level_tag(level: float) -> str:
    """Suffix naming a tail level in measure names: 0.95 -> "95", 0.995 -> "99.5".

    Raises
    ------
    ValueError
        If ``level`` is not strictly between 0 and 1.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"a tail level must be strictly between 0 and 1 (got {level})")
    # Round to 10 significant digits so 0.1 + 0.85 style float noise does not leak into names.
    return f"{round(100.0 * level, 8):g}"


def measure_names(levels: tuple[float, ...] = DEFAULT_LEVELS) -> tuple[str, ...]:
    """Names of the measures `summarize` returns for these tail levels, in order.

    ``measure_names()`` equals `MEASURES`.
    """
    names = ["mean", "sd", "p_loss", "p_shared_savings"]
    for level in levels:
        tag = level_tag(level)
        names += [f"VaR{tag}", f"TVaR{tag}"]
    return tuple(names)


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
    """Standard error of the VaR estimate, dollars (Siddiqui's sparsity estimator).

    ``SE = sqrt(p (1 - p) / n) * (L_(n(p+h)) - L_(n(p-h))) / (2 h)``: the density of the
    loss at VaR is estimated from the spacing of order statistics a probability ``h``
    either side of ``p``, with the Hall-Sheather bandwidth
    ``h = n**(-1/3) z**(2/3) (1.5 phi(Phi^-1(p))**2 / (2 Phi^-1(p)**2 + 1))**(1/3)``,
    ``z = 1.96``.

    Notes
    -----
    An earlier version used ``h = sqrt(p (1 - p) / n)``. That window holds too few
    order statistics: its standard error is itself so noisy that the ±1.96 SE interval
    covered the true VaR95 of a normal sample (n = 2000) only 93.5% of the time; with
    the Hall-Sheather bandwidth coverage is 95-96% (``tests/test_risk_coverage.py``).
    Atoms (values drawn at least 3 times, such as "no loss" or a loss cap): where VaR
    sits on an atom wider than the window the SE is zero, which is right (the
    estimate then has no sampling error with high probability); where VaR sits on an
    atom that only part of the window covers, the spacing to the next value is kept,
    a conservative SE. Where VaR is in a continuous part, window ends that fall on an
    atom are pulled back to its edge, so that the jump is not read as the density.

    Parameters
    ----------
    sorted_loss : ndarray
        The simulated losses sorted ascending, dollars (positive = a loss).
    p : float
        Level in (0, 1).
    """
    n = sorted_loss.size
    if n < 2:
        return 0.0
    z = _NORMAL_975
    q = _std_normal_ppf(p)
    density = math.exp(-0.5 * q * q) / math.sqrt(2.0 * math.pi)
    h = n ** (-1.0 / 3.0) * z ** (2.0 / 3.0) * (1.5 * density**2 / (2.0 * q * q + 1.0)) ** (1.0 / 3.0)
    # The window's ranks (lower-quantile convention: rank ceil(n u) is the u-quantile),
    # kept inside the sample; the actual probability width is used below.
    lo = int(np.clip(math.ceil(n * (p - h)) - 1, 0, n - 1))
    hi = int(np.clip(math.ceil(n * (p + h)) - 1, 0, n - 1))
    var = sorted_loss[int(np.clip(math.ceil(n * p) - 1, 0, n - 1))]
    if not _is_atom(sorted_loss, var):
        # VaR lies where the loss is continuous, but an end of the window may reach an
        # atom (e.g. "no loss" for a contract with P(loss) near 1 - p, or a loss cap):
        # the jump there is not the density at VaR and would inflate the SE tenfold.
        # Pull each such end back to the edge of the atom.
        if _is_atom(sorted_loss, sorted_loss[lo]):
            lo = int(np.searchsorted(sorted_loss, sorted_loss[lo], side="right"))
        if _is_atom(sorted_loss, sorted_loss[hi]):
            hi = int(np.searchsorted(sorted_loss, sorted_loss[hi], side="left")) - 1
    if hi <= lo:
        return _jump_standard_error(sorted_loss, p)
    sparsity = float(sorted_loss[hi] - sorted_loss[lo]) / ((hi - lo) / n)
    return max(math.sqrt(p * (1.0 - p) / n) * sparsity, _jump_standard_error(sorted_loss, p))


def _jump_standard_error(sorted_loss: np.ndarray, p: float) -> float:
    """Error of a VaR estimate that may land on either side of a jump, dollars.

    When the edge of an atom (e.g. "no loss" for a contract whose P(loss) is close to
    ``1 - p``, or a loss cap) lies within 1.96 binomial standard deviations of rank
    ``n p``, another sample would put VaR on the other side of the jump with
    probability ``q = Phi(-distance)``; the estimate is then a two-point mixture with
    standard deviation ``gap * sqrt(q (1 - q))``. Zero when no atom edge is that close.
    """
    n = sorted_loss.size
    sd_rank = math.sqrt(n * p * (1.0 - p))
    centre = n * p
    worst = 0.0
    lo = int(np.clip(math.floor(centre - _NORMAL_975 * sd_rank), 0, n - 1))
    hi = int(np.clip(math.ceil(centre + _NORMAL_975 * sd_rank), 0, n - 1))
    # Boundaries between distinct values inside the window: rank r is the last of its value.
    changes = np.nonzero(np.diff(sorted_loss[lo:hi + 1]))[0] + lo
    for r in changes:
        below, above = sorted_loss[r], sorted_loss[r + 1]
        if not (_is_atom(sorted_loss, below) or _is_atom(sorted_loss, above)):
            continue
        distance = abs((r + 1) - centre) / sd_rank
        q = 0.5 * math.erfc(distance / math.sqrt(2.0))
        worst = max(worst, float(above - below) * math.sqrt(q * (1.0 - q)))
    return worst


_NORMAL_975 = 1.959963984540054  # Phi^-1(0.975)
_ATOM_MIN_COUNT = 3  # a value drawn this often from a continuous distribution is an atom, not chance


def _is_atom(sorted_loss: np.ndarray, x: float) -> bool:
    """Whether ``x`` occurs at least `_ATOM_MIN_COUNT` times in ``sorted_loss``."""
    count = np.searchsorted(sorted_loss, x, side="right") - np.searchsorted(sorted_loss, x, side="left")
    return bool(count >= _ATOM_MIN_COUNT)


def _std_normal_ppf(p: float) -> float:
    """Standard normal quantile (scipy-free, to keep risk.py importable cheaply)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)


def tvar_standard_error(loss: np.ndarray, p: float, var: float, tvar: float) -> float:
    """Asymptotic standard error of the tail-mean estimate.

    ``sqrt((Var(L | L >= VaR) + p (TVaR - VaR)**2) / (n (1 - p)))`` (Manistre and
    Hancock 2005).
    """
    tail = loss[loss >= var]
    tail_var = float(tail.var()) if tail.size > 1 else 0.0
    return math.sqrt((tail_var + p * (tvar - var) ** 2) / (loss.size * (1.0 - p)))


def summarize(net: np.ndarray, gain_shared: np.ndarray,
              levels: tuple[float, ...] = DEFAULT_LEVELS) -> tuple[dict[str, float], dict[str, float]]:
    """Every measure of `measure_names(levels)` and its Monte Carlo standard error for one contract.

    Parameters
    ----------
    net : ndarray
        Money to the provider per simulation, dollars.
    gain_shared : ndarray of bool
        Whether shared savings were paid in each simulation.
    levels : tuple of float, optional
        Tail levels of VaR and TVaR, each in (0, 1); the default gives `MEASURES`
        (``VaR95``, ``TVaR95``, ``VaR99``, ``TVaR99``). E.g. ``(0.95, 0.99, 0.995)``
        adds ``VaR99.5`` and ``TVaR99.5``.

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
    for level in levels:
        tag = level_tag(level)
        var = value_at_risk(loss, level)
        tvar = tail_value_at_risk(loss, level)
        values[f"VaR{tag}"], values[f"TVaR{tag}"] = var, tvar
        errors[f"VaR{tag}"] = var_standard_error(sorted_loss, level)
        errors[f"TVaR{tag}"] = tvar_standard_error(loss, level, var, tvar)
    # Adding 0.0 turns any -0.0 (e.g. the loss of a contract that never loses) into 0.0.
    return {k: v + 0.0 for k, v in values.items()}, errors


# ---- weighted (exact discrete) versions, for distributions given as points and probabilities ----


def _sorted_by_loss(loss: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``loss`` sorted ascending with its weights normalised to sum to 1."""
    loss = np.asarray(loss, dtype=float)
    w = np.asarray(weights, dtype=float)
    if loss.shape != w.shape:
        raise ValueError(f"loss {loss.shape} and weights {w.shape} differ in shape")
    if np.any(w < 0) or not w.sum() > 0:
        raise ValueError("weights must be non-negative with a positive sum")
    order = np.argsort(loss, kind="stable")
    return loss[order], w[order] / w.sum()


def weighted_value_at_risk(loss: np.ndarray, weights: np.ndarray, p: float) -> float:
    """Lower ``p``-quantile ``inf{x : P(L <= x) >= p}`` of a discrete distribution of the loss.

    Parameters
    ----------
    loss : ndarray
        Support points of the loss, dollars (positive = a loss).
    weights : ndarray
        Their probabilities (normalised here).
    p : float
        Level in (0, 1).
    """
    x, w = _sorted_by_loss(loss, weights)
    return float(x[_lower_quantile_index(w, p)])


def _lower_quantile_index(w_sorted: np.ndarray, p: float) -> int:
    cdf = np.cumsum(w_sorted)
    return min(int(np.searchsorted(cdf, p, side="left")), cdf.size - 1)


def weighted_tail_value_at_risk(loss: np.ndarray, weights: np.ndarray, p: float) -> float:
    """Acerbi-Tasche tail mean at level ``p`` of a discrete distribution of the loss, dollars.

    ``(E[L 1{L > VaR}] + VaR (P(L <= VaR) - p)) / (1 - p)``, which counts the part of
    the atom at ``VaR`` that lies in the tail.
    """
    x, w = _sorted_by_loss(loss, weights)
    var = float(x[_lower_quantile_index(w, p)])
    above = x > var
    at_or_below = float(w[~above].sum())
    return float((np.dot(x[above], w[above]) + var * (at_or_below - p)) / (1.0 - p))


def summarize_weighted(net: np.ndarray, gain_shared: np.ndarray,
                       weights: np.ndarray) -> dict[str, float]:
    """Every measure of `MEASURES` for a discrete distribution of results (no sampling error).

    Parameters
    ----------
    net : ndarray
        Money to the provider at each support point, dollars.
    gain_shared : ndarray of bool
        Whether shared savings are paid at each support point.
    weights : ndarray
        Probability of each support point (normalised here).

    Returns
    -------
    dict
        Keyed by measure name; ``sd`` is the distribution's standard deviation.
        Probabilities are fractions; money is dollars.
    """
    net = np.asarray(net, dtype=float)
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    loss = -net
    mean = float(np.dot(net, w))
    values = {
        "mean": mean,
        "sd": math.sqrt(max(float(np.dot((net - mean) ** 2, w)), 0.0)),
        "p_loss": float(w[net < 0].sum()),
        "p_shared_savings": float(w[np.asarray(gain_shared, dtype=bool)].sum()),
    }
    x, ws = _sorted_by_loss(loss, w)
    for level in DEFAULT_LEVELS:
        tag = level_tag(level)
        var = float(x[_lower_quantile_index(ws, level)])
        above = x > var
        tvar = (np.dot(x[above], ws[above]) + var * (float(ws[~above].sum()) - level)) / (1.0 - level)
        values[f"VaR{tag}"], values[f"TVaR{tag}"] = var, float(tvar)
    # Adding 0.0 turns any -0.0 into 0.0, as `summarize` does.
    return {k: v + 0.0 for k, v in values.items()}
