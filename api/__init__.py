"""The HTTP API (FastAPI), served by `triage serve`."""
