"""`triage ingest` of 600 distinct emails against the bundled encoder alone on the same texts (issue 18).

The emails are the bundled samples (triage/samples/emails) copied with fresh Message-IDs (a thread's references
follow its copy) and a numbered subject, so every copy is a new message with its own text. A fresh TRIAGE_HOME
gets `triage init` (models trained: not timed), then `triage ingest` of the folder runs as a subprocess.

Start-up and processing are told apart by the rows' `processed_at`: the worker takes `BATCH_SIZE` rows per pass,
so from the end of the first pass to the last row it did nothing but steady work. The encoder alone, in this
process, embeds the same classification texts once before and once after the pipeline (the mean is the
baseline: the machine is shared, its load moves), in batches of 32 spread over its threads as the encoder does.
CPU seconds (the subprocess's from getrusage, the encoder's from process_time) are reported too: unlike
rates, they do not move with what else the machine runs.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import tempfile
import time
from importlib import resources
from pathlib import Path

from benchmarks.common import Row, run_triage, timed

N = 600
_MSG_ID = re.compile(rb"<([^<>\s]+)>")
_ID_HEADERS = (b"message-id", b"in-reply-to", b"references")


def _copy(raw: bytes, copy: int) -> bytes:
    """The sample as copy `copy`: its message ids prefixed with the copy number, its subject numbered."""
    split = raw.find(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.find(b"\n\n")
    head, body = (raw[:split], raw[split:]) if split >= 0 else (raw, b"")
    eol = b"\r\n" if b"\r\n" in head else b"\n"
    fields: list[list[bytes]] = []
    for line in head.split(eol):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1].append(line)
        else:
            fields.append([line])
    out: list[bytes] = []
    for lines in fields:
        name = lines[0].split(b":", 1)[0].strip().lower()
        if name in _ID_HEADERS:
            lines = [_MSG_ID.sub(lambda m: b"<c%d.%s>" % (copy, m.group(1)), line) for line in lines]
        elif name == b"subject":
            lines = [*lines[:-1], lines[-1] + b" (case %d)" % copy]
        out.extend(lines)
    return eol.join(out) + body


def samples() -> list[bytes]:
    folder = resources.files("triage") / "samples" / "emails"
    return [p.read_bytes() for p in sorted(folder.iterdir(), key=lambda p: p.name) if p.name.endswith(".eml")]


def emails(n: int = N) -> list[bytes]:
    """n distinct messages made from the bundled samples (threads stay threads within each copy)."""
    base = samples()
    return [_copy(base[i % len(base)], i // len(base)) for i in range(n)]


def classified_texts(raws: list[bytes]) -> list[str]:
    """What the pipeline embeds of these emails: the classification text of each one it classifies."""
    from mail.parse import parse_email
    from triage.config import load_config
    from triage.flows.processing import email_classification_text

    ours = load_config().our_addresses()  # the bundled triage.toml, which `triage init` writes
    texts = []
    for raw in raws:
        parsed = parse_email(raw)
        if parsed.auto_kind is None and parsed.from_address not in ours:
            texts.append(email_classification_text(parsed))
    return texts


def _encoder_alone(texts: list[str]) -> tuple[float, float]:
    """msg/s of the bundled encoder on these texts (weights loaded and warmed up first), and its CPU seconds."""
    from models.encoder import shared_encoder

    encoder = shared_encoder()
    encoder.encode(texts[:64])
    cpu = time.process_time()
    rate = len(texts) / timed(lambda: encoder.encode(texts))
    return rate, time.process_time() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _processed_at(home: Path) -> list[float]:
    from sqlalchemy import select

    from triage.config import Settings
    from triage.db import Database
    from triage.inbox.tables import InboxItem

    db = Database(Settings(home=home))
    try:
        with db.session() as session:
            stamps = session.scalars(select(InboxItem.processed_at).where(InboxItem.processed_at.is_not(None)))
            return sorted(s.timestamp() for s in stamps if s is not None)
    finally:
        db.dispose()


def run(n: int = N) -> list[Row]:
    work = Path(tempfile.mkdtemp(prefix="triage-bench-pipeline-"))
    try:
        return _run(work, n)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, n: int) -> list[Row]:
    from triage.flows.processing import BATCH_SIZE

    home, mails = work / "home", work / "mails"
    mails.mkdir()
    raws = emails(n)
    for i, raw in enumerate(raws):
        (mails / f"{i:04d}.eml").write_bytes(raw)
    texts = classified_texts(raws)
    run_triage(home, "init")  # trains the baseline models: not part of the measurement

    before, cpu_before = _encoder_alone(texts)
    load_before = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), _children_cpu()
    run_triage(home, "ingest", str(mails), "--json")
    whole, ingest_cpu = time.perf_counter() - start, _children_cpu() - cpu_start
    load_after = os.getloadavg()[0]
    after, cpu_after = _encoder_alone(texts)
    encoder = (before + after) / 2
    encoder_cpu = (cpu_before + cpu_after) / 2

    stamps = _processed_at(home)
    steady = stamps[BATCH_SIZE:]  # from the end of the first pass (models loaded, first batch embedded)
    rate = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else 0.0
    startup = whole - len(stamps) / rate if rate else whole
    load = f"load {load_before:.2f} -> {load_after:.2f} (1-min avg, {os.cpu_count()} cores)"
    # The encoder's own rate on the texts the pipeline embedded: the same messages as msg/s below.
    return [
        Row("pipeline", f"encoder alone, {len(texts)} classification texts", encoder, "msg/s",
            note=f"baseline: before {before:.1f}, after {after:.1f}"),
        Row("pipeline", f"triage ingest after start-up ({len(stamps)} rows)", rate, "msg/s", encoder,
            note=f"processed_at from row {BATCH_SIZE}; {load}"),
        Row("pipeline", "triage ingest, whole process", len(stamps) / whole, "msg/s", encoder,
            note=f"{whole:.1f} s, of it start-up {startup:.1f} s (imports, storing {n} mails, loading models)"),
        # CPU seconds do not move with the machine's load: what a message costs beside what encoding it costs.
        Row("pipeline", "CPU per message: encoder alone / triage ingest (whole process)",
            1000 * encoder_cpu / len(texts), "ms", 1000 * ingest_cpu / max(1, len(stamps)),
            note=f"ingest {1000 * ingest_cpu / max(1, len(stamps)):.1f} ms a message, start-up included"),
    ]
