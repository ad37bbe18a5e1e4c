"""Every relative link in README.md, CHANGELOG.md and docs/ leads somewhere: the file exists,
and so does the heading an anchor names.

Pages move (docs/ is a guide, a reference and a few single pages); a link left pointing at the
old place is the first thing a newcomer trips on, and nothing else would notice it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").rglob("*.md"))]

FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
#: ``[text](target)`` or ``[text](target#anchor)``; images too (``![alt](path)``).
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)


def prose(text: str) -> str:
    """The page without its fenced code blocks (a ``# comment`` there is no heading)."""
    return FENCE.sub("", text)


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces
    as hyphens, a repeated heading numbered (``-1``, ``-2``)."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for heading in HEADING.findall(prose(page.read_text())):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def relative_links(page: Path) -> list[tuple[str, str]]:
    """(file part, anchor) of each link that stays inside the repository."""
    links = []
    for target in LINK.findall(prose(page.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        links.append((path, anchor))
    return links


def test_the_pages_have_links_to_check() -> None:
    total = sum(len(relative_links(page)) for page in PAGES)
    assert (ROOT / "docs" / "index.md") in PAGES
    assert total > 100, total


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for path, anchor in relative_links(page):
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(f"{path}: no such file")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            broken.append(f"{path}#{anchor}: no such heading in {target.relative_to(ROOT)}")
    assert not broken, broken


def test_the_anchor_rule_is_githubs() -> None:
    page = ROOT / "docs" / "reference" / "schema.md"
    assert "ordersposition_id-when-a-position-closes" in anchors(page)
    assert "table-reference" in anchors(page)


def test_every_page_is_reachable_from_the_index() -> None:
    """docs/index.md is the map: every page of docs/ is one link away from it."""
    index = ROOT / "docs" / "index.md"
    linked = {(index.parent / path).resolve() for path, _ in relative_links(index) if path}
    unlinked = [
        str(page.relative_to(ROOT))
        for page in PAGES
        if page.is_relative_to(ROOT / "docs") and page != index and page not in linked
    ]
    assert not unlinked, unlinked
