"""The README and docs/ promise only what exists: commands and options, linked files and anchors, benchmarks."""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from triage.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
INLINE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
BENCH = re.compile(r"python -m benchmarks((?:[ \t]+[a-z_]+)*)")
PROMPT = re.compile(r"^(?:\$\s+)?(?:\S*/)?(triage\s.*)$")
SOURCE = re.compile(r"^(?:triage|models|training|mail|api|tests|benchmarks|docs)/[\w./-]*$")


def _ids(pages: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in pages]


def _snippets(text: str) -> list[str]:
    """Code shown on a page: every line of a fenced block and every inline code span outside them."""
    lines = [line for block in FENCE.findall(text) for line in block.splitlines()]
    return lines + [span.replace("\\|", "|") for span in INLINE.findall(FENCE.sub("", text))]


def _prose(text: str) -> str:
    return INLINE.sub("", FENCE.sub("", text))


def _commands(text: str) -> list[str]:
    found = []
    for snippet in _snippets(text):
        match = PROMPT.match(snippet.strip())
        if match:
            found.append(match.group(1))
    return found


def _options(command: Any) -> dict[str, Any]:
    names = {}
    for param in command.params:
        if param.param_type_name == "option":
            for name in (*param.opts, *param.secondary_opts):
                names[name] = param
    return names


def _problems(line: str, root: Any) -> list[str]:
    """What in one documented `triage ...` line the CLI does not have (empty when it all exists)."""
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError:
        tokens = line.split()
    command, path, problems = root, ["triage"], []
    tokens = [t.strip("[]") for t in tokens[1:]]
    i = 0
    while i < len(tokens):
        token = tokens[i].rstrip(".]")
        i += 1
        if not token:
            continue
        if token.startswith("-") and token != "-":
            name = token.split("=", 1)[0]
            param = _options(command).get(name)
            if name == "--help":
                continue
            if param is None:
                problems.append(f"`{' '.join(path)}` has no option {name}")
            elif not (param.is_flag or param.count) and "=" not in token:
                i += 1  # the option's value
            continue
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            continue  # an argument of a leaf command
        alternatives = token.split("|")
        missing = [a for a in alternatives if a not in subcommands]
        if missing:
            problems.append(f"`{' '.join(path)}` has no subcommand {', '.join(missing)}")
            break
        command, path = subcommands[alternatives[0]], [*path, alternatives[0]]
    return problems


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for line in FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        if line.startswith("#"):
            slug = _slug(line.lstrip("#"))
            anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _benchmarks() -> set[str]:
    tree = ast.parse((ROOT / "benchmarks" / "__main__.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "BENCHMARKS" for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError("benchmarks/__main__.py has no BENCHMARKS registry")


@pytest.fixture(scope="module")
def cli() -> Any:
    return typer.main.get_command(app)


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_documented_commands_exist(page: Path, cli: Any) -> None:
    problems = [f"{line!r}: {p}" for line in _commands(page.read_text(encoding="utf-8")) for p in _problems(line, cli)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # http:, https:, mailto:
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no file {linked}")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_source_paths_named_in_code_exist(page: Path) -> None:
    named = {span for span in INLINE.findall(page.read_text(encoding="utf-8")) if SOURCE.match(span)}
    missing = sorted(span for span in named if not (ROOT / span).exists())
    assert not missing, f"no such file or folder: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_documented_benchmarks_exist(page: Path) -> None:
    known = _benchmarks()
    named = {name for snippet in _snippets(page.read_text(encoding="utf-8"))
             for args in BENCH.findall(snippet) for name in args.split()}
    assert named <= known, f"unknown benchmarks {sorted(named - known)}; the registry has {sorted(known)}"


def test_every_docs_page_is_linked_from_the_readme_and_opens_with_what_it_covers() -> None:
    readme = README.read_text(encoding="utf-8")
    for page in PAGES[1:]:
        rel = page.relative_to(ROOT).as_posix()
        assert f"]({rel})" in readme, f"README.md does not link {rel}"
        lines = page.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("# ") and not lines[1], f"{rel} should open with a title and a blank line"
        assert lines[2] and not lines[2].startswith(("#", "|", "`", "-")), f"{rel} should open with a paragraph"


def test_readme_stays_a_front_door() -> None:
    assert len(README.read_bytes()) < 10_000, "README.md is a front door: move reference material into docs/"


def test_the_checker_notices_what_is_missing(cli: Any) -> None:
    assert _problems("triage tickets list --status open --json", cli) == []
    assert _problems("triage outbox list|send|retry", cli) == []
    assert _problems("triage tickets frobnicate 1", cli) == ["`triage tickets` has no subcommand frobnicate"]
    assert _problems("triage tickets list --colour", cli) == ["`triage tickets list` has no option --colour"]
    assert _commands("Run `triage demo --json`, then\n```sh\n$ .venv/bin/triage serve  # API\n```\n") == [
        "triage serve  # API", "triage demo --json"]
