"""Idempotency keys for POST routes (issue 14 item 6): a request retried with the same key does its work once.

A route adopts it in three lines: take `idem: IdempotencyDep`, return `replay` when
`idem.start(body, session=session)` gives one (before doing anything), and return
`idem.finish(result, status_code, session=session)`. Without the header nothing changes.

The key is the client's (`Idempotency-Key`, as Stripe and draft-ietf-httpapi-idempotency-key-header use it),
scoped to the API user, and kept for 24 hours with the response; the rules are in `triage.idempotency.service`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import CurrentUser
from triage.errors import BadRequest
from triage.idempotency.service import Claim, claim, complete, fingerprint

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY = 255
_PRINTABLE = re.compile(r"[\x20-\x7e]+")

# For a route's `responses=`: what the header adds to its OpenAPI description.
IDEMPOTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": f"the {HEADER} header is not 1-{MAX_KEY} printable ASCII characters"},
    409: {"description": f"the {HEADER} was used before for a different request (or the state conflicts)"},
}

Result = TypeVar("Result", bound=BaseModel)


@dataclass
class Idempotency:
    """One request's key (None without the header), its caller and its route; `start`, then `finish`."""

    key: str | None
    user_id: int
    route: str
    _claim: Claim | None = field(default=None, repr=False)

    def start(self, body: BaseModel | None, *, session: Session) -> Response | None:
        """The stored response when this is a retry of a finished request; None when the route should do its work.

        Raises Conflict (409) when the key came before with another route or body.
        """
        if self.key is None:
            return None
        payload = body.model_dump(mode="json") if body is not None else None
        found = claim(self.key, user_id=self.user_id, route=self.route,
                      fingerprint=fingerprint(self.route, payload), session=session)
        if found.replay:
            assert found.row.response_status is not None and found.row.response_body is not None
            return Response(found.row.response_body, status_code=found.row.response_status,
                            media_type="application/json", headers={REPLAYED: "true"})
        self._claim = found
        return None

    def finish(self, result: Result, status_code: int, *, session: Session) -> Result | Response:
        """The route's answer; with a key, rendered once and kept so a retry gets the same bytes."""
        if self._claim is None:
            return result
        response = JSONResponse(result.model_dump(mode="json", by_alias=True), status_code=status_code)
        complete(self._claim.row, status=status_code, body=bytes(response.body).decode(), session=session)
        return response


def parse_key(value: str) -> str:
    """The key from the header: 1-255 printable ASCII characters, or a structured-field string holding them."""
    if len(value) >= 2 and value[0] == value[-1] == '"':  # the IETF draft's sf-string form, "abc"
        value = value[1:-1]
    if not 1 <= len(value) <= MAX_KEY or not _PRINTABLE.fullmatch(value):
        raise BadRequest(f"the {HEADER} header must be 1-{MAX_KEY} printable ASCII characters, e.g. a UUID")
    return value


def idempotency(request: Request, user: CurrentUser,
                key: Annotated[str | None, Header(
                    alias=HEADER, description=f"1-{MAX_KEY} printable ASCII characters, e.g. a UUID: a retry with "
                    "the same key and body within 24 hours gets the first response again (with "
                    f"`{REPLAYED}: true`) instead of repeating the action")] = None) -> Idempotency:
    """The request's Idempotency-Key, validated (400 when malformed or sent twice)."""
    if len(request.headers.getlist(HEADER)) > 1:
        raise BadRequest(f"send one {HEADER} header, not several")
    return Idempotency(key=parse_key(key) if key is not None else None, user_id=user.user_id,
                       route=f"{request.method} {request.url.path}"[:300])


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
