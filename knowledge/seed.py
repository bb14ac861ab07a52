"""Load the shipped knowledge base (knowledge/content/*.yaml) into an empty database."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from sqlite_utils import Database

from knowledge.db import write
from knowledge.entries import EntryError, entry_from_record
from knowledge.store import add_entries, count_entries
from knowledge.synonyms import add_synonym_group, synonym_groups

log = logging.getLogger(__name__)
CONTENT_DIR = Path(__file__).parent / "content"
SYNONYMS_FILE = CONTENT_DIR / "synonyms.yml"
SHIPPED_BY = "系统（随软件发布）"


def shipped_records(directory: Path = CONTENT_DIR) -> list[tuple[str, dict[str, Any]]]:
    """Every shipped entry record, with the file it came from, in file-name order."""
    records: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(directory.glob("*.yaml")):
        for record in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            records.append((path.name, record))
    return records


def seed_if_empty(db: Database) -> int:
    """Load the shipped entries (published) and synonyms into a database that has no entries.

    Returns how many entries were loaded; 0 if the database already had content.
    """
    with write(db):
        if count_entries(db):
            return 0
        entries = []
        for position, (source, record) in enumerate(shipped_records(), start=1):
            try:
                entries.append(entry_from_record(record, default_status="published"))
            except EntryError as error:
                raise EntryError(
                    error.field, f"{source} 第{position}条：{error.message}"
                ) from error
        add_entries(db, entries, SHIPPED_BY)
        if not synonym_groups(db) and SYNONYMS_FILE.exists():
            for group in yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8")) or []:
                add_synonym_group(db, group, by=SHIPPED_BY)
    log.info("loaded %d shipped entries into the knowledge base", len(entries))
    return len(entries)
