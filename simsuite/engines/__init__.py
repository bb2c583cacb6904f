"""Stage 4, the engines that turn a scenario into results.

* `simsuite.engines.settlement_inputs`: the one builder of what a contract settles on;
* `simsuite.engines.montecarlo`: kernel draws and settlement of every contract (`run`);
* `simsuite.engines.exact`: the exact (FFT) distribution instead of draws (`run_exact`);
* `simsuite.engines.distributed`: chunks of a run or a sweep on a Dask cluster.
"""
