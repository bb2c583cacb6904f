"""Stage 2, the stochastic model (numpy and scipy; no Numba here).

* `lognormal`: the closed forms of capped lognormal costs, used everywhere;
* `costmodel`: the per-beneficiary cost model; `population`: a scenario's panel as arrays;
* `resampled_costs`: costs resampled from the organisation's own history;
* `episode_costs`: the episode cost model and episode prices;
* `factors`: per-simulation factors (savings, trend shocks, quality, the risk cap, effort).
"""
