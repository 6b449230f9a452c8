"""The README and the docs link only files inside the repository, and every one of them exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# [text](target) and [text](target "title"); reference definitions "[id]: target"
INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
EXTERNAL = ("http://", "https://", "mailto:")


def links(text: str) -> list[str]:
    return INLINE.findall(text) + REFERENCE.findall(text)


def local_target(document: Path, link: str) -> Path:
    return (document.parent / link.split("#", 1)[0]).resolve()


def test_the_documents_exist() -> None:
    assert (REPO / "README.md").is_file()
    assert (REPO / "docs" / "ARCHITECTURE.md").is_file()


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_points_to_a_file_in_the_repository(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    local = [link for link in links(text) if not link.startswith(EXTERNAL) and not link.startswith("#")]
    outside = [link for link in local if not local_target(document, link).is_relative_to(REPO)]
    missing = [link for link in local if not local_target(document, link).exists()]

    assert outside == [], f"{document.name} links outside the repository"
    assert missing == [], f"{document.name} links files that do not exist"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_path_outside_the_repository_is_named(document: Path) -> None:
    # A path such as ../shared/design/ARCHITECTURE.md, even in `code`, points outside the repository.
    assert re.findall(r"\.\./[\w./-]+", document.read_text(encoding="utf-8")) == []


def test_the_link_finder_finds_links_of_every_form() -> None:
    text = 'See [a](docs/A.md), [b](<B.md> "title"), ![img](x.png#frag)\n[ref]: ../outside.md\n'

    assert links(text) == ["docs/A.md", "B.md", "x.png#frag", "../outside.md"]
    assert not local_target(REPO / "README.md", "../outside.md").is_relative_to(REPO)
