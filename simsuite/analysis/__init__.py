"""Stage 5, decisions on results: ranking against a risk appetite, sweeps and sensitivity, sizing."""
