"""``python -m simsuite`` runs the command line."""

from simsuite.entry import main

main()
