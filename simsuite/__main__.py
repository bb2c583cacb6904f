"""``python -m simsuite`` runs the command line."""

from simsuite.cli.entry import main

main()
