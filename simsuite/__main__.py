"""``python -m simsuite`` runs the command line."""

from simsuite.cli import main

main()
