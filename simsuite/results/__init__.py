"""Results: per-simulation arrays, risk measures with their Monte Carlo errors, the xarray Dataset."""
