"""`python -m wqrm.cli`: the command line."""

from wqrm.cli import main

main()
