"""Default settings. Override them in instance/config.py or with PUFA_* environment variables."""

from __future__ import annotations

import os
from typing import Any


def defaults(instance_path: str) -> dict[str, Any]:
    """The configuration Pufa runs with when nothing else is set."""
    return {
        # SQLite file; created with its folder on first start.
        "DATABASE": os.path.join(instance_path, "pufa.sqlite3"),
        # Seconds a request waits for another writer before giving up.
        "DATABASE_BUSY_TIMEOUT": 5.0,
        # Signs staff sessions; set a long random value in production. While it is this
        # public default the staff console at /admin stays off.
        "SECRET_KEY": "dev-only-change-me",
        # Key of the HMAC residents are stored under (knowledge.residents); "" uses SECRET_KEY.
        # Changing it makes every resident a stranger: their old turns can no longer be
        # found by `flask residents export/forget`.
        "RESIDENT_HASH_KEY": "",
        # Days residents' message texts are kept in the record of turns; then only the
        # counts stay (`flask residents purge`, run at start and daily by the scheduler).
        "RESIDENT_TEXT_RETENTION_DAYS": 180,
        # WeChat Official Account link (公众号后台 → 设置与开发 → 基本配置).
        "WECHAT_TOKEN": "pufa-dev-token",
        "WECHAT_APP_ID": "",
        "WECHAT_APP_SECRET": "",
        "WECHAT_AES_KEY": "",
        # WeChat API server; tests and the demo point it at a local stand-in.
        "WECHAT_API_BASE": "https://api.weixin.qq.com",
        # Requests whose timestamp is further than this from now (seconds) are refused.
        "WECHAT_TIMESTAMP_WINDOW": 600,
        # Largest webhook body accepted (bytes).
        "WECHAT_MAX_BODY": 64 * 1024,
        # Seconds between purges of expired webhook records (answered messages after 24 h,
        # plain-mode signatures after the timestamp window, ended rate-limit windows) in each
        # worker; 0 turns the timer off (then only app start and the scheduler's daily
        # housekeeping purge).
        "WECHAT_PURGE_INTERVAL": 3600,
        # Server-side time budget for a webhook reply (seconds) before a holding reply.
        "REPLY_DEADLINE": 1.0,
        # Threads per worker process that answer webhook messages (the request waits for one
        # until REPLY_DEADLINE); as many as gunicorn's threads, so none waits for a thread.
        "WECHAT_ANSWER_THREADS": 8,
        # How long a resident's pending choices / "更多" pages stay valid (seconds).
        "DIALOGUE_STATE_TTL": 600,
        # Messages a minute one resident (WeChat OpenID, API user, web chat browser) may send;
        # past it they get a short polite reply (/api/ask: 429) and no matching work. 0: no limit.
        "RATE_LIMIT_PER_MINUTE": 20,
        # Messages a minute /api/ask and the web chat take from one client address, whatever
        # `user` says (raise it when many residents share an address). 0: no limit.
        "RATE_LIMIT_PER_ADDRESS_PER_MINUTE": 20,
        # Unanswered questions one caller (resident or address) may add to the staff's queue
        # per day (Beijing time); later ones are still answered, just not queued. 0: no cap.
        "UNANSWERED_PER_CALLER_PER_DAY": 100,
        # Seconds /api/ask waits for another writer before answering 503 (the webhook keeps
        # its own, shorter waits inside REPLY_DEADLINE).
        "API_BUSY_TIMEOUT": 1.0,
        # /api/ask requests in progress at once per worker process; more get 503 at once, so
        # the webhook always finds a free thread. Keep it below gunicorn's threads (8).
        "API_MAX_CONCURRENT": 6,
        # Load knowledge/content into an empty database on start.
        "SEED_ON_START": True,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # The account type, for its mass-send quota: "subscription" (订阅号, one a day) or
        # "service" (服务号, four a calendar month).
        "WECHAT_ACCOUNT_TYPE": "subscription",
        # The custom menu `flask wechat menu push` sets: WeChat's button JSON (a list);
        # empty builds it from the topics, with a 人工 button.
        "WECHAT_MENU": "",
        # A campaign due while no scheduler ran is still sent this many seconds late; later,
        # it is marked missed.
        "SCHEDULER_GRACE_SECONDS": 6 * 3600,
        # How often the scheduler process looks for changed and due campaigns (seconds).
        "SCHEDULER_POLL_SECONDS": 30,
        # How often it writes its heartbeat row (seconds).
        "SCHEDULER_HEARTBEAT_SECONDS": 60,
        # When it runs the daily housekeeping (Beijing time, HH:MM).
        "SCHEDULER_HOUSEKEEPING_AT": "03:30",
        # Seconds a send claim holds; a process that died is taken over after it runs out.
        "SCHEDULER_CLAIM_LEASE": 120,
        # Retries of a send after a transient error (-1, network, timeout), and the first
        # delay between them (seconds; it doubles each time).
        "SCHEDULER_RETRIES": 4,
        "SCHEDULER_RETRY_DELAY": 5.0,
        # Tests only: a folder where the sender pauses at its crash points ("" = never).
        "SCHEDULER_PAUSE_DIR": "",
        # Reverse proxies (nginx, Caddy …) in front of Pufa whose X-Forwarded-For and
        # X-Forwarded-Proto headers are trusted; 0 trusts none. Behind one proxy set 1, so
        # that logs and the staff sign-in lockout see residents' and staff's own addresses.
        "PROXY_HOPS": 0,
    }
