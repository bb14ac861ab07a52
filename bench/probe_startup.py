"""Start Pufa in this fresh process and print how long each step took, as JSON.

Run by bench_startup (``python -m bench.probe_startup --database FILE``): import the app
package, create the app on ``FILE`` (migrating and, if empty, seeding it), then answer
one real question through ``/api/ask`` — what the first resident after a deploy waits for.
"""

from __future__ import annotations

import argparse
import json
import logging
import time


def main(argv: list[str] | None = None) -> int:
    """Time import, app creation and the first answer; print them as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", required=True)
    parser.add_argument("--question", required=True)
    args = parser.parse_args(argv)
    # The app logs at INFO; the parent reads only this process's JSON line.
    logging.disable(logging.INFO)

    before_import = time.perf_counter()
    from bot import create_app

    imported = time.perf_counter()
    app = create_app({"DATABASE": args.database})
    created = time.perf_counter()
    response = app.test_client().post("/api/ask", json={"text": args.question, "user": "probe"})
    answered = time.perf_counter()
    if response.status_code != 200:
        raise SystemExit(f"/api/ask answered {response.status_code}: {response.get_data(True)}")
    print(
        json.dumps(
            {
                "import_seconds": imported - before_import,
                "create_app_seconds": created - imported,
                "first_answer_seconds": answered - created,
                "in_process_seconds": answered - before_import,
                "reply_kind": response.get_json()["kind"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
