"""Classify a text without storing anything: the same models and signals the pipeline uses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api.batching import MicroBatcher
from api.deps import RuntimeDep, allow
from models.language import CONFIDENT, LanguageGuess, detect_language
from models.vocabulary import OUT_OF_SCOPE, URGENCY_TO_PRIORITY
from triage.runtime import Triage
from triage.users.service import Role

router = APIRouter(prefix="/api/v1", tags=["classify"])

MAX_TEXT = 20_000  # about ten pages; longer texts are not messages, and inference time grows with length


class ClassifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT, description="the customer's message (subject and body)")
    email: str | None = Field(default=None, max_length=320, description="the sender, for the VIP urgency signal")
    previous_contacts: int = Field(default=0, ge=0, le=1000,
                                   description="earlier messages about the same matter (raises urgency)")


class LabelScore(BaseModel):
    label: str
    confidence: float


class TaskResult(BaseModel):
    label: str
    confidence: float = Field(description="calibrated probability of `label`")
    top: list[LabelScore] = Field(description="the most likely labels, best first")
    reasons: list[str] = Field(description="why, in words: model output and the signals that changed it")
    signals: dict[str, Any] = Field(description="named signal outputs, e.g. anger score or urgency signals")
    model_version: str


class LanguageOut(BaseModel):
    code: str = Field(description="the most likely of the configured languages (ISO 639-1, e.g. en, de)")
    confidence: float = Field(description="the model's probability for `code` against our languages and the "
                                          "likeliest other one")
    confident: bool = Field(description=f"confidence is at least {CONFIDENT}; below that, `code` is only a hint")


class ClassifyOut(BaseModel):
    intent: TaskResult
    sentiment: TaskResult
    urgency: TaskResult
    out_of_scope: bool = Field(description="the intent model is not confident the text is a known request")
    priority: str = Field(description="the ticket priority this urgency maps to")
    queue: str | None = Field(description="the queue the intent routes to")
    language: LanguageOut | None = Field(description="the text's language; null when there are too few letters "
                                                     "to tell (e.g. 'ok', an order number)")


def _classify_batch(rt: Triage, texts: list[str],
                    contexts: Sequence[dict[str, Any] | None]) -> list[tuple[Any, LanguageGuess | None]]:
    """Models and language for one micro-batch, in the batcher's worker thread (the suite is looked up per batch,
    so a promoted model is used from the next batch on)."""
    results = rt.suite.classify(texts, contexts)
    languages = rt.config.language.detect
    return [(result, detect_language(text, languages)) for text, result in zip(texts, results, strict=True)]


def _result(prediction: Any, version: str) -> TaskResult:
    return TaskResult(label=prediction.label, confidence=round(float(prediction.confidence), 4),
                      top=[LabelScore(label=str(label), confidence=round(float(p), 4)) for label, p in prediction.top],
                      reasons=list(prediction.reasons), signals=dict(prediction.signals), model_version=version)


@router.post("/classify", response_model=ClassifyOut,
             dependencies=[allow(Role.agent, Role.qa, Role.supervisor, Role.data_scientist, Role.integration)],
             responses={503: {"description": "No model is trained yet"}})
async def classify(body: ClassifyIn, rt: RuntimeDep, request: Request) -> ClassifyOut:
    """Intent, sentiment, urgency and language of a text, with confidences, the runners-up and the reasons.

    Nothing is stored. Requests arriving together are classified in one batch (one encoder pass),
    in a worker thread, with the models loaded at start-up.
    """
    context = {"email": body.email, "previous_contacts": body.previous_contacts}
    state = request.app.state
    if getattr(state, "classify_batcher", None) is None:
        state.classify_batcher = MicroBatcher(lambda texts, contexts: _classify_batch(rt, texts, contexts))
    results, guess = await state.classify_batcher.submit(body.text, context)  # ModelMissingError: 503
    tasks = {task: _result(pred, version) for task, (pred, version) in results.items()}
    intent, urgency = tasks["intent"], tasks["urgency"]
    return ClassifyOut(intent=intent, sentiment=tasks["sentiment"], urgency=urgency,
                       out_of_scope=intent.label == OUT_OF_SCOPE,
                       priority=URGENCY_TO_PRIORITY.get(urgency.label, "normal"),
                       queue=rt.config.team_for_intent(intent.label),
                       language=None if guess is None else LanguageOut(code=guess.code, confidence=guess.confidence,
                                                                       confident=guess.confident))
