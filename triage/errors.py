"""One error vocabulary for every door: each class carries its HTTP status, SMTP reply and CLI exit code.

Services raise these; the API (one exception handler), the SMTP server and the CLI translate them in one
place each, so a route never guesses a status from an error's text.
"""

from __future__ import annotations


class TriageError(Exception):
    """Our fault or the environment's: logged with a trace id, answered without internals."""

    http_status = 500
    title = "Internal error"
    smtp_reply = "451 4.3.0 Temporary failure, please retry"
    exit_code = 1


class UserError(TriageError):
    """Bad input or setup the user can fix; shown as one line, never as a traceback."""

    http_status = 422
    title = "Invalid request"
    smtp_reply = "550 5.6.0 Message rejected"
    exit_code = 2


class InvalidInput(UserError):
    """The input itself is wrong (a malformed value, a missing field, an unknown label)."""


class BadRequest(InvalidInput):
    """A request parameter or upload the service cannot use (a period, time zone, search query, file format).

    HTTP 400 rather than 422: the report, QA, knowledge-import and training-upload routes have answered
    these with 400 since they were published, and their clients may rely on it. New code raises InvalidInput.
    """

    http_status = 400
    title = "Bad request"


class TooLarge(InvalidInput):
    """The input is bigger than a configured limit (a message over the size limit)."""

    http_status = 413
    title = "Content too large"
    smtp_reply = "552 5.3.4 Message too big"  # RFC 5321 §4.5.3.1.10, RFC 3463 X.3.4


class NotFound(UserError):
    """The thing named does not exist (or is not visible to the caller)."""

    http_status = 404
    title = "Not found"
    exit_code = 4


class Conflict(UserError):
    """The request is valid but clashes with the current state (already solved, duplicate name, busy)."""

    http_status = 409
    title = "Conflict"
    exit_code = 5


class Unavailable(TriageError):
    """A dependency is down (database, mail server, model store): retrying later can succeed."""

    http_status = 503
    title = "Service unavailable"
    smtp_reply = "451 4.3.0 Service temporarily unavailable, please retry"
    exit_code = 3


class ModelMissingError(UserError):
    """A model the pipeline needs has not been trained yet."""

    http_status = 503
    title = "Model not trained"

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"no {kind} model is trained yet: run `triage init` (trains baseline models from the bundled samples)"
        )
        self.kind = kind


class TooManyAttempts(UserError):
    """Too many failed attempts from one place (a password guessed at): wait `retry_after` seconds."""

    http_status = 429
    title = "Too many attempts"
    exit_code = 6

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
