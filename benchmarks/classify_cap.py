"""`python -m benchmarks cap`: how much of a message the classifiers should read (`MAX_CLASSIFIED_CHARS`).

The default models (trained as `triage init` trains them) answer the bundled evaluation set with the served
text cut at each cap, twice: as written (short messages, as most are), and with a long tail appended the way
long emails look in practice: the request first, then a pasted log and an old quoted thread (about 30,000
characters of text unrelated to any intent). For each cap: intent accuracy on both, and the time to classify
one long message (all three tasks) at that cap. Accuracy stops rising where the cap covers what customers
write; beyond it only cost (and on long mail, noise in the n-gram features) grows.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from benchmarks.common import Row
from benchmarks.triage_eval import load_evaluation, served_text

NAME = "cap"
CAPS = (250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000)

_LOG = ("2026-11-14 03:12:{s:02d} INFO exporter batch {n} wrote 500 rows to shard {k}; retry queue empty; "
        "checksum a41f{n:04d} verified\n")
_QUOTED = ("> On Tuesday the warehouse team wrote: the pallet count for the northern depot was adjusted after the "
           "stock take, and the figures in the weekly sheet now match the scanner totals again.\n")


def _long_tail(chars: int = 30_000) -> str:
    lines, n = ["\n\n--- pasted log ---\n"], 0
    while sum(map(len, lines)) < chars * 2 // 3:
        lines.append(_LOG.format(s=n % 60, n=n, k=n % 7))
        n += 1
    while sum(map(len, lines)) < chars:
        lines.append(_QUOTED)
    return "".join(lines)


def run() -> list[Row]:
    from training.registry import Registry, load_suite
    from training.train import train_baselines

    rows = load_evaluation()
    load = os.getloadavg()[0]
    truth = ["other" if r["intent"] == "oos" else r["intent"] for r in rows]
    short = [served_text(r) for r in rows]
    tail = _long_tail()
    long = [text + tail for text in short]
    out = [Row(NAME, "load average (1 min) at start", round(load, 2), "", note=f"{os.cpu_count()} CPUs")]
    with tempfile.TemporaryDirectory() as home:
        registry = Registry(Path(home) / "models")
        train_baselines(registry)
        suite = load_suite(registry)
        for cap in CAPS:
            accuracy = {}
            for name, texts in (("as written", short), ("with a 30k-character tail", long)):
                answers = suite.classify([t[:cap] for t in texts])
                hits = sum(a["intent"][0].label == t for a, t in zip(answers, truth, strict=True))
                accuracy[name] = round(100.0 * hits / len(rows), 2)
            start = time.perf_counter()
            for text in long[:20]:
                suite.classify_one(text[:cap])
            per_message = (time.perf_counter() - start) / 20 * 1000
            out.append(Row(NAME, f"intent accuracy at cap {cap:,}", accuracy["as written"], "%",
                           note=f"with a long tail {accuracy['with a 30k-character tail']}%; "
                                f"classify_one of a long message {per_message:.0f} ms"))
    lengths = sorted(len(t) for t in short)
    out.append(Row(NAME, "served text length, 95th percentile (bundled set)", float(lengths[int(0.95 * len(lengths))]),
                   "chars", note=f"longest {lengths[-1]}"))
    return out
