"""The two kinds of error: the user's (bad input, say what to fix) and ours (log with a trace id)."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or setup the user can fix; shown as one line, never as a traceback."""

    exit_code = 2


class ModelMissingError(UserError):
    """A model the pipeline needs has not been trained yet."""

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"no {kind} model is trained yet: run `triage init` (trains baseline models from the bundled samples)"
        )
        self.kind = kind
