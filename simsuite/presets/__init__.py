"""Contract presets as data files, one per program (read by `simsuite.contracts.presets`)."""
