"""A customer's data (issue 14): a copy of everything stored about them, and its erasure. Admins only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.deps import Principal, RuntimeDep, SessionDep, allow
from triage.customers.privacy import erase_customer, export_customer
from triage.knowledge.index import knowledge_index

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])

Email = Annotated[str, Path(max_length=320, description="an address the customer writes from")]
Admin = Annotated[Principal, allow()]


class ErasureOut(BaseModel):
    customer_id: int | None = Field(description="the anonymised customer row kept for reports; null if none was left")
    address_sha256: str = Field(description="SHA-256 of the lower-cased address, as the audit event records it")
    already_erased: bool = Field(description="true when an earlier erasure left nothing to do")
    counts: dict[str, int] = Field(description="rows changed or deleted, by kind")


@router.get("/{email}/export")
def export_customer_data(email: Email, session: SessionDep, _user: Admin) -> dict[str, Any]:
    """Everything stored about the customer writing from this address, as one JSON document.

    Tickets with their messages (text, raw mail and attachment contents as base64), mail sent to them, intake rows,
    label corrections, suggestions, QA samples and audit events. Format `triage.customer-export/1`.
    """
    return export_customer(email, session=session)


@router.delete("/{email}", response_model=ErasureOut)
def erase_customer_data(email: Email, session: SessionDep, rt: RuntimeDep, user: Admin) -> ErasureOut:
    """Erase the personal data of the customer writing from this address (all their addresses), for good.

    Texts, raw mail, attachments no one else sent, addresses, names, drafts, corrections and past-reply index
    entries go; tickets stay as anonymous rows for reports. Repeating it answers `already_erased`; an address
    never seen is 404.
    """
    result = erase_customer(email, session=session, actor=user.actor, index=knowledge_index(rt.settings))
    return ErasureOut.model_validate(result)
