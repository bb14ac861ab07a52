"""``flask kb …`` commands: thin wrappers over functions the tests call too."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from knowledge.db import get_db
from knowledge.store import count_entries

kb = AppGroup("kb", help="知识库：导入、导出、评测。")


@kb.command("stats")
def stats_command() -> None:
    """Print how many entries the knowledge base holds."""
    click.echo(f"{count_entries(get_db())} entries")


def init_app(app: Flask) -> None:
    """Register the ``kb`` command group."""
    app.cli.add_command(kb)
