"""`python -m triage.cli ...`: the same app and module state as the `triage` console script."""

from triage.cli import main

main()
