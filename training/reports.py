"""Reports written next to every trained model: per-class table, confusion matrix and reliability plot.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot), so nothing depends on a display
and several threads (an API training job, say) never share global figure state.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

from training.measure import Evaluation, confused_pairs, confusion, metrics, reliability_bins

log = logging.getLogger(__name__)

PER_CLASS_CSV = "per_class.csv"
PER_CLASS_MD = "per_class.md"
CONFUSION_PNG = "confusion.png"
RELIABILITY_PNG = "reliability.png"
TOP_PAIRS = 10


def write_reports(ev: Evaluation, folder: Path, *, title: str, top_pairs: int = TOP_PAIRS) -> list[str]:
    """Write the tables and figures for one evaluation into `folder`; returns the file names written."""
    scores = metrics(ev)
    written = [write_per_class_csv(scores, folder / PER_CLASS_CSV), write_per_class_markdown(scores, title,
                                                                                              folder / PER_CLASS_MD)]
    # A model is worth keeping even when a figure cannot be drawn: say so and go on.
    for name, draw in ((CONFUSION_PNG, lambda p: plot_confusion(ev, p, title=title, top_pairs=top_pairs)),
                       (RELIABILITY_PNG, lambda p: plot_reliability(ev, p, title=title))):
        try:
            draw(folder / name)
            written.append(name)
        except Exception:
            log.warning("could not draw %s for %s", name, title, exc_info=True)
    return written


def write_per_class_csv(scores: dict[str, Any], path: Path) -> str:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["label", "precision", "recall", "f1", "support"])
        for label, row in scores["per_class"].items():
            writer.writerow([label, row["precision"], row["recall"], row["f1"], row["support"]])
    return path.name


def write_per_class_markdown(scores: dict[str, Any], title: str, path: Path) -> str:
    lines = [f"# {title}", "",
             f"{scores['n']} examples: accuracy {scores['accuracy']:.4f}, macro-F1 {scores['macro_f1']:.4f}, "
             f"ECE {scores['ece']:.4f}"]
    if "oos_recall" in scores:
        in_scope = scores["in_scope_accuracy"]
        lines[-1] += (f", in-scope accuracy {in_scope:.4f}" if in_scope is not None else "") + \
            f", out-of-scope recall {scores['oos_recall']:.4f}"
    lines += ["", "| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for label, row in scores["per_class"].items():
        cell = label.replace("|", "\\|")
        lines.append(f"| {cell} | {row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} | {row['support']} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path.name


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def plot_confusion(ev: Evaluation, path: Path, *, title: str, top_pairs: int = TOP_PAIRS) -> None:
    """Confusion matrix over the classes of the most frequent mistakes (all classes when there are few)."""
    pairs = confused_pairs(ev, top_pairs)
    if pairs:
        labels = sorted({t for t, _, _ in pairs} | {p for _, p, _ in pairs})
        subtitle = f"classes in the {len(pairs)} most frequent confusions"
    else:
        labels = ev.labels[:12]
        subtitle = "no confusions"
    matrix = confusion(ev, labels)
    size = max(4.0, 0.55 * len(labels) + 2.5)
    fig = _figure(size, size)
    ax = fig.add_subplot()
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}\n{subtitle}", fontsize=9)
    high = matrix.max() or 1
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if matrix[i, j] > high / 2 else "black")
    fig.savefig(path, bbox_inches="tight")


def plot_reliability(ev: Evaluation, path: Path, *, title: str) -> None:
    """Reliability diagram: accuracy per confidence bin against the diagonal, with the bin sizes below."""
    rows = reliability_bins(ev)
    scores = metrics(ev)
    fig = _figure(5.0, 6.0)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect calibration")
    widths = [r["hi"] - r["lo"] for r in rows]
    lefts = [r["lo"] for r in rows]
    top.bar(lefts, [r["accuracy"] for r in rows], width=widths, align="edge", edgecolor="black", alpha=0.7,
            label="accuracy")
    top.plot([r["confidence"] for r in rows], [r["accuracy"] for r in rows], "o", color="darkred",
             markersize=4, label="mean confidence")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.set_title(f"{title}\nECE {scores['ece'] or 0:.4f} over {scores['n']} examples", fontsize=9)
    top.legend(loc="upper left", fontsize=7)
    bottom.bar(lefts, [r["count"] for r in rows], width=widths, align="edge", edgecolor="black", color="grey")
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("examples")
    fig.savefig(path, bbox_inches="tight")
