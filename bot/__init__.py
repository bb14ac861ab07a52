"""The resident-facing side of Pufa: the app factory, webhook, dialogue, API and web chat."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask.logging import default_handler
from sqlite_utils import Database
from werkzeug.middleware.proxy_fix import ProxyFix

from bot import headers
from bot import schema as bot_schema
from bot.config import defaults
from bot.wechat.housekeeping import purge_wechat_records, start_purge_timer
from knowledge import db
from knowledge import schema as knowledge_schema
from knowledge.matching.live_index import current_index
from knowledge.seed import seed_if_empty
from knowledge.turns import purge_old_texts, retention_days
from scheduler import schema as scheduler_schema


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Pufa web app.

    Configuration, each overriding the last: the defaults in ``bot.config``,
    ``instance/config.py`` if present, ``PUFA_*`` environment variables, then ``config``.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(defaults(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PUFA")
    if config:
        app.config.update(config)
    # One log format for Flask's and our own loggers (gunicorn's error log captures stderr).
    app.logger.removeHandler(default_handler)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    def prepare(database: Database) -> None:
        # Records left from before a restart go now; the timer below takes it from there.
        purge_wechat_records(database)
        if app.config["SEED_ON_START"]:
            seed_if_empty(database)
        purged = purge_old_texts(database, retention_days(app.config))
        if purged:
            logging.getLogger(__name__).info(
                "%d resident texts past their retention removed", purged
            )
        # Build the matcher index now, so the first resident does not wait for it.
        current_index(database, str(app.config["DATABASE"]))

    hops = proxy_hops(app.config["PROXY_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    db.init_app(
        app,
        [knowledge_schema.migrations, bot_schema.migrations, scheduler_schema.migrations],
        on_ready=prepare,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    import console
    from bot import api, chat, errors, feedback, residents_cli, webhook
    from bot.wechat import cli as wechat_cli
    from knowledge import cli
    from scheduler import cli as scheduler_cli
    from scheduler.sender import init_event_hook

    errors.init_app(app)
    headers.init_app(app)
    app.register_blueprint(webhook.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(chat.bp)
    app.register_blueprint(feedback.bp)
    console.init_app(app)
    cli.init_app(app)
    residents_cli.init_app(app)
    wechat_cli.init_app(app)
    scheduler_cli.init_app(app)
    init_event_hook(app)
    start_purge_timer(str(app.config["DATABASE"]), app.config["WECHAT_PURGE_INTERVAL"])
    return app


def proxy_hops(value: Any) -> int:
    """``PROXY_HOPS`` as a count of trusted proxies; a clear error for anything else."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"PROXY_HOPS must be a whole number of proxies (0 or more), not {value!r}")
    return value
