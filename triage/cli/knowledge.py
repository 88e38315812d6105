"""`triage kb ...` and `triage suggest`: import and search the knowledge base, draft replies, report on edits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from triage.cli import _common
from triage.cli._common import err, out, print_json, print_suggestion

kb_app = typer.Typer(help="The knowledge base: import articles, search them, report on draft edits.",
                     no_args_is_help=True)


def _ctx() -> tuple[Any, Any]:
    from triage.knowledge.index import knowledge_index

    rt = _common.runtime()
    rt.db.ensure_schema()
    return rt, knowledge_index(rt.settings)


@kb_app.command("import")
def kb_import(
    path: Annotated[Path, typer.Argument(help="A folder of Markdown articles (YAML front matter), a .csv or a .json.")],
    prune: Annotated[bool, typer.Option(help="Delete articles imported earlier from PATH that are gone from it.")]
    = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import articles; only new or changed ones are chunked and embedded again."""
    from triage.knowledge.service import import_path

    rt, index = _ctx()
    with rt.db.transaction() as session:
        report = import_path(path, session=session, index=index, prune=prune)
    for rejection in report.rejected:
        err.print(f"[yellow]{escape(rejection)}[/yellow]", highlight=False)
    if as_json:
        print_json(report.as_dict())
        return
    out.print(f"{report.files} file(s): {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
              f"{report.deleted} deleted, {len(report.rejected)} rejected; {report.chunks_embedded} of "
              f"{report.chunks} chunks embedded.")


@kb_app.command("search")
def kb_search(
    query: Annotated[str, typer.Argument(help="What to look for, in the customer's words.")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=50, help="How many results.")] = 5,
    language: Annotated[str | None, typer.Option(help="Only articles in this language (en, de, ...).")] = None,
    product: Annotated[str | None, typer.Option(help="Only this product's articles and general ones.")] = None,
    intent: Annotated[str | None, typer.Option(help="Boost articles that answer this intent.")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, bm25 or dense.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ranked knowledge-base snippets with their fused scores and why each matched."""
    from triage.knowledge.service import search

    rt, index = _ctx()
    with rt.db.session() as session:
        results = search(query, session=session, index=index, k=k, mode=mode,  # type: ignore[arg-type]
                         language=language, product=product, intent=intent)
    if as_json:
        print_json([r.model_dump() for r in results])
        return
    if not results:
        out.print("No results (is the knowledge base empty? `triage kb import PATH`).")
        return
    table = Table(title=f"Knowledge base: {escape(query)}")
    for column in ("#", "score", "article", "section", "lang", "why"):
        table.add_column(column, overflow="fold")
    for n, r in enumerate(results, start=1):
        table.add_row(str(n), f"{r.score:.4f}", escape(r.title), escape(r.heading or "-"), r.language,
                      escape("; ".join(r.why)))
    out.print(table)


@kb_app.command("delete")
def kb_delete(article: Annotated[str, typer.Argument(help="The article id (file stem or record id).")]) -> None:
    """Delete one article; it disappears from search results at once."""
    from triage.knowledge.service import delete_article

    rt, index = _ctx()
    with rt.db.transaction() as session:
        delete_article(article, session=session, index=index)
    out.print(f"Deleted {article}.")


@kb_app.command("report")
def kb_report(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """How agents received the drafts, per intent: used, edited, rejected, and words changed before sending."""
    from triage.knowledge.service import edit_report

    rt, _index = _ctx()
    with rt.db.session() as session:
        rows = edit_report(session=session)
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    table = Table(title="Draft feedback per intent (edit distance in words, draft vs reply sent)")
    for column in ("intent", "feedback", "used", "edited", "rejected", "mean edit distance", "mean edit ratio"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.intent, str(r.feedback), str(r.used), str(r.edited), str(r.rejected),
                      "-" if r.mean_edit_distance is None else f"{r.mean_edit_distance:.1f}",
                      "-" if r.mean_edit_ratio is None else f"{r.mean_edit_ratio:.2f}")
    out.print(table if rows else "No feedback on suggestions yet.")


def suggest_cmd(
    ticket_id: Annotated[int, typer.Argument(help="The ticket to draft a reply for.")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=50, help="How many knowledge-base snippets.")] = 3,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Suggest knowledge-base snippets and similar past replies for a ticket, and draft a reply."""
    from triage.knowledge.service import suggest

    rt, index = _ctx()
    with rt.db.transaction() as session:
        result = suggest(ticket_id, session=session, index=index, config=rt.config, k=k)
    if as_json:
        print_json(result.model_dump_json())
        return
    print_suggestion(result)

