"""The registry of shipped law texts: which laws ship, their titles, kinds and other names.

All of it is data — ``laws/index.tsv`` (file, short name, full title, kind, version),
``laws/aliases.tsv`` (other names residents and staff use) and ``laws/not_shipped.tsv``
(laws residents ask for that are not shipped, and what to tell them) — read once at
import. The texts themselves are parsed by :mod:`knowledge.laws` on first need.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from knowledge.matching.normalize import to_simplified

LAWS_DIR = Path(__file__).parent / "laws"
INDEX_FILE = LAWS_DIR / "index.tsv"
ALIASES_FILE = LAWS_DIR / "aliases.tsv"
NOT_SHIPPED_FILE = LAWS_DIR / "not_shipped.tsv"
INTERPRETATION = "司法解释"
# What a resident may type around a law's name that says nothing about which law it is.
_NAME_NOISE = re.compile(r"[\s《》〈〉()（）“”\"'、，。,.]+")


class LawError(ValueError):
    """The law registry's data files are inconsistent (a packaging mistake, not user input)."""


@dataclass(frozen=True)
class Law:
    """One shipped text as ``index.tsv`` lists it."""

    name: str  # the short name law_refs and residents use: 劳动合同法, 民间借贷司法解释
    title: str  # the full official title
    kind: str  # 宪法 / 法律 / 行政法规 / 司法解释
    version: str  # the date of the text's version, empty for the original four
    file: str

    @property
    def is_interpretation(self) -> bool:
        """A Supreme People's Court judicial interpretation (cited by full title first)."""
        return self.kind == INTERPRETATION

    @property
    def nested_title(self) -> str:
        """The title as written inside 《》: a law it quotes marked 〈〉."""
        return self.title.replace("《", "〈").replace("》", "〉")

    @property
    def introduction(self) -> str:
        """The law named in full the first time a resident sees it, short name after it.

        A title that quotes another law's title marks it with 〈〉 inside the 《》.
        """
        return f"《{self.nested_title}》（{self.name}）"


def fold_law_name(name: str) -> str:
    """A law's name as compared: simplified, without brackets, spaces or 中华人民共和国."""
    return _NAME_NOISE.sub("", to_simplified(name)).replace("中华人民共和国", "")


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE))


def read_registry(directory: Path = LAWS_DIR) -> tuple[dict[str, Law], dict[str, str]]:
    """The laws of ``index.tsv`` by short name, and every folded name or alias → short name.

    Raises :class:`LawError` when a listed file is missing, a law is listed twice, an alias
    names a law that is not listed, or one name would stand for two laws.
    """
    laws: dict[str, Law] = {}
    for row in _read_tsv(directory / INDEX_FILE.name):
        law = Law(row["short_name"], row["title"], row["kind"], row["version"], row["file"])
        if not (directory / law.file).is_file():
            raise LawError(f"index.tsv lists {law.file}, which is not in {directory}")
        if law.name in laws:
            raise LawError(f"index.tsv lists {law.name} twice")
        laws[law.name] = law
    names: dict[str, str] = {}

    def add(name: str, law: str) -> None:
        key = fold_law_name(name)
        if names.setdefault(key, law) != law:
            raise LawError(f"“{name}” names both {names[key]} and {law}")

    for law in laws.values():
        add(law.name, law.name)
        add(law.title, law.name)
    for row in _read_tsv(directory / ALIASES_FILE.name):
        if row["short_name"] not in laws:
            raise LawError(f"aliases.tsv: {row['alias']} → unknown law {row['short_name']}")
        add(row["alias"], row["short_name"])
    return laws, names


def read_not_shipped(names: dict[str, str], directory: Path = LAWS_DIR) -> dict[str, str]:
    """Laws residents still ask for that are not shipped (repealed, or revised since), by
    folded name, with what to tell them; none may be a shipped law's name (LawError)."""
    replies: dict[str, str] = {}
    for row in _read_tsv(directory / NOT_SHIPPED_FILE.name):
        key = fold_law_name(row["name"])
        if key in names:
            raise LawError(f"not_shipped.tsv: {row['name']} is a shipped law ({names[key]})")
        replies[key] = row["reply"]
    return replies


LAWS, NAMES = read_registry()
#: The short names of every shipped law, in index.tsv order.
LAW_NAMES = tuple(LAWS)
#: Folded names of laws that are not shipped → what a resident asking for one is told.
NOT_SHIPPED = read_not_shipped(NAMES)


def written_law_names(directory: Path = LAWS_DIR) -> list[str]:
    """Every way a law is written in a text: short names, full titles (with and without
    中华人民共和国, with 〈〉 when nested), aliases, and the names of laws not shipped."""
    laws, _names = read_registry(directory)
    written = set()
    for law in laws.values():
        for title in (law.name, law.title, law.nested_title):
            written.update({title, title.removeprefix("中华人民共和国")})
    written.update(row["alias"] for row in _read_tsv(directory / ALIASES_FILE.name))
    written.update(row["name"] for row in _read_tsv(directory / NOT_SHIPPED_FILE.name))
    return sorted(written, key=len, reverse=True)


def law_named(name: str) -> str | None:
    """The short name of the shipped law ``name`` stands for (full title, alias …), or None."""
    return NAMES.get(fold_law_name(name))


def law_named_in_full(law: Law, text: str) -> bool:
    """Whether ``text`` already names ``law`` by its full title (with 《》 or 〈〉 inside)."""
    return law.title in text or law.nested_title in text
