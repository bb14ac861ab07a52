"""gunicorn settings for Pufa: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Threaded workers (gthread), so a few slow clients — each holding a connection while it
trickles its body in — tie up one thread each, not a whole worker: the webhook still
finds a free thread and answers within its one-second budget. The API never takes more
than API_MAX_CONCURRENT of a worker's threads (bot/config.py), keeping some for the
webhook. Each slow client still holds a thread until it finishes or hangs up (gunicorn has
no body-read timeout), so dozens of them — workers × threads, 32 here — are a reverse
proxy's job: nginx in front buffers each request body before it reaches gunicorn (see
README, Production).

Any setting here can be overridden on the command line (``-w 2``, ``-b …``) or with
``GUNICORN_CMD_ARGS``. Reference: https://docs.gunicorn.org/en/stable/settings.html
"""

import os
from typing import Any

#: Loopback by default: the reverse proxy in front is what faces the internet.
bind = "127.0.0.1:8000"
#: Worker processes; they share everything through the SQLite file.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "gthread"
#: Threads per worker: requests served at once by one worker (keep above API_MAX_CONCURRENT).
threads = 8
#: A worker takes no more connections than it has threads. One whose threads are all held
#: by slow clients stops accepting, so new requests go to the other workers instead of
#: queueing behind the slow ones (the kernel hands connections to whichever worker asks).
worker_connections = threads
#: Seconds a worker may go silent (its main loop hung) before the arbiter restarts it.
timeout = 30
#: Seconds workers get on restart or stop to finish requests in flight (WeChat waits 5 s).
graceful_timeout = 10
#: No keep-alive: an idle connection would hold one of the few connection slots above.
#: The proxy in front keeps residents' connections alive; to gunicorn each request is one.
keepalive = 0
#: Request line, header count and header size limits (bytes): larger requests get 4xx.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
#: No runtime control socket (gunicornc): Pufa does not use it, so it is one socket fewer.
control_socket_disable = True


def post_worker_init(worker: Any) -> None:
    """Log when a worker has loaded the app (its matcher index built) and takes requests."""
    worker.log.info("Worker ready (pid: %s)", worker.pid)
