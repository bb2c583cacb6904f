"""Stage 7, the command line: everything that uses click lives here, and nothing below imports it.

* `simsuite.cli.entry`: the console entry point (Ctrl-C from the first import; fast exit);
* `simsuite.cli.app`: the command group, lazy command loading, errors -> one line + exit status;
* one module per command or group: `run` (``run``, ``validate``), `contracts`,
  `decision` (``sweep``, ``report``), `settle`, `calibrate`;
* `options` (options shared by commands) and `progress` (the terminal progress bar).
"""
