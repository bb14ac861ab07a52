"""A bounded fuzz pass over real HTTP: hostile webhook and API bodies never give a 500.

gunicorn runs the app as shipped (gunicorn.conf.py) on 127.0.0.1. The pass sends
:data:`WEBHOOK_BODIES` signed webhook bodies, a third in each mode (plain, compatible,
safe), and :data:`API_BODIES` bodies to /api/ask, all generated from a fixed seed; it
counts the status codes, checks every 200 reply parses (and decrypts, in safe mode), and
that the server log holds no traceback. Run it alone with ``pytest -m slow -s`` to see
the counts.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import count
from pathlib import Path

import pytest
import requests
from werkzeug.wrappers import Response

from tests.conftest import TEST_CONFIG
from tests.http_support import Gunicorn, LoopbackClient, gunicorn_server
from tests.webhook_support import (
    ACCOUNT,
    MODES,
    WeChatSender,
    aes_encrypt,
    cdata,
    parse_xml,
    sha1_signature,
)

pytestmark = pytest.mark.slow

WEBHOOK_BODIES = 2100
API_BODIES = 1050
#: The pass stops sending after this long, whatever is left (it then fails its counts).
TIME_BUDGET_SECONDS = 100.0
CLIENTS = 4
DRAINED_BYTES = 64 * 1024
SEED = 20261201
WEBHOOK_STATUSES = {200, 400, 403, 413}
API_STATUSES = {200, 400, 413, 429}
ENCODINGS = ["gbk", "gb18030", "shift_jis", "utf-7", "utf-16-le", "latin-1", "no-such", "UTF-8"]
EVENTS = ["subscribe", "unsubscribe", "CLICK", "VIEW", "SCAN", "LOCATION", "TEMPLATESENDJOBFINISH"]
MSG_TYPES = ["text", "voice", "image", "location", "link", "video", "shortvideo", "file", "odd"]
_msg_ids = count(8_100_000_000_000_000_001)


def random_text(rng: random.Random, longest: int = 300) -> str:
    """Text as residents (and attackers) send it: CJK, emoji, markup, controls, long runs."""
    pools = [
        "离婚冷静期多久借钱不还怎么办防范诈骗民法典第条遗嘱继承",
        "abc<>&\"' ]]> <![CDATA[ &amp; &#0; &#xD800; %s {0} \\",
        "\U0001f600\U0001f4a9\u200b\u202e\ufeff\u00a0\ufffd",
        "\t\n\r ",
        "0123456789一二三四五六七八九更多原文人工菜单",
    ]
    size = rng.choice([0, 1, 2, 5, 20, longest, rng.randrange(longest * 10 + 1)])
    return "".join(rng.choice(rng.choice(pools)) for _ in range(size))


def safe_cdata(text: str) -> str:
    """``text`` inside CDATA, split where it holds ``]]>`` (as a careful sender would)."""
    return cdata(text.replace("]]>", "]]]]><![CDATA[>"))


def message_fields(rng: random.Random) -> dict[str, str]:
    """The fields of a plausible message or event, some of them odd."""
    fields = {
        "ToUserName": ACCOUNT,
        "FromUserName": f"oFUZZ_{rng.randrange(60):04d}",
        "CreateTime": str(int(time.time())),
        "MsgType": rng.choice(MSG_TYPES),
    }
    kind = fields["MsgType"]
    if kind == "text":
        fields["Content"] = random_text(rng)
    if kind == "voice" and rng.random() < 0.7:
        fields["Recognition"] = random_text(rng, 60)
    if rng.random() < 0.2:
        fields["MsgType"] = "event"
        fields["Event"] = rng.choice([*EVENTS, random_text(rng, 10)])
        fields["EventKey"] = rng.choice(["TOPIC_marriage", "HUMAN", "HELP", random_text(rng, 40)])
    else:
        fields["MsgId"] = str(next(_msg_ids))
    if rng.random() < 0.08:
        del fields[rng.choice(list(fields))]
    if rng.random() < 0.05:
        fields["CreateTime"] = rng.choice(["", "abc", "-1", "1e9", "９９", "9" * 40])
    return fields


def as_xml(fields: dict[str, str]) -> str:
    """``fields`` as WeChat's XML, every value in CDATA."""
    return "<xml>" + "".join(f"<{k}>{safe_cdata(v)}</{k}>" for k, v in fields.items()) + "</xml>"


def hostile_xml(rng: random.Random) -> str | bytes:
    """A message body: mostly well-formed, often not, sometimes plainly hostile."""
    xml = as_xml(message_fields(rng))
    roll = rng.random()
    if roll < 0.45:
        return xml
    if roll < 0.55:
        return f'<?xml version="1.0" encoding="{rng.choice(ENCODINGS)}"?>' + xml
    if roll < 0.60:
        return xml[: rng.randrange(len(xml))]
    if roll < 0.64:
        return (
            '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>' + xml.replace("<xml>", "<xml>&b;")
        )
    if roll < 0.67:
        return '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml>&x;</xml>'
    if roll < 0.70:
        return "<xml>" + "<a>" * 5000 + "</a>" * 5000 + "</xml>"
    if roll < 0.74:
        return xml.encode("gbk", "replace")
    if roll < 0.78:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
    if roll < 0.81:
        return "\ufeff" + xml
    if roll < 0.84:
        return xml.replace("</xml>", "<Content>second</Content><Extra><b>1</b></Extra></xml>")
    if roll < 0.87:
        return xml.replace("<xml>", "<xml xmlns='urn:x'>")
    if roll < 0.90:
        return "<xml>" + "x" * 70_000 + "</xml>"
    if roll < 0.93:
        return "<notxml>" + xml + "</notxml>"
    if roll < 0.96:
        return xml.replace("<![CDATA[", "").replace("]]>", "")
    return ""


def webhook_request(
    rng: random.Random, sender: WeChatSender, mode: str
) -> tuple[dict[str, str], bytes]:
    """A signed request in ``mode`` (sometimes with a fault in the signing or the envelope)."""
    body = hostile_xml(rng)
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if mode == "plain":
        query, data = sender.query(), body if isinstance(body, bytes) else body.encode()
    else:
        query, data_text = sender.safe_request(text, compatible=mode == "compatible")
        data = data_text.encode()
        fault = rng.random()
        if fault < 0.04:
            secret = aes_encrypt(sender.aes_key, sender.app_id, "\x00" * 20, os.urandom(16))
            query["msg_signature"] = sha1_signature(
                sender.token, query["timestamp"], query["nonce"], secret
            )
            data = f"<xml><Encrypt>{cdata(secret)}</Encrypt></xml>".encode()
        elif fault < 0.08:
            data = data.replace(b"<Encrypt>", b"<Encrypt>!!", 1)
        elif fault < 0.10:
            query["encrypt_type"] = rng.choice(["AES", "des", ""])
    fault = rng.random()
    if fault < 0.03:
        query["signature"] = "0" * 40
    elif fault < 0.05:
        query["timestamp"] = rng.choice(["", "abc", "1", "9" * 30])
    return query, data


def api_body(rng: random.Random) -> tuple[bytes, str]:
    """A body for /api/ask and its Content-Type."""
    roll = rng.random()
    json_type = "application/json"
    if roll < 0.45:
        payload: dict = {"text": random_text(rng, 400)}
        if rng.random() < 0.6:
            payload["user"] = rng.choice(
                [f"fuzz-{rng.randrange(40)}", "", 42, None, ["u"], "u" * 200]
            )
        return json.dumps(payload, ensure_ascii=rng.random() < 0.5).encode(), json_type
    if roll < 0.52:
        depth = rng.choice([100, 999, 1000, 5000, 50_000])
        return ("[" * depth + "]" * depth).encode(), json_type
    if roll < 0.57:
        return ('{"text": "' + "\\ud83d" * rng.randrange(1, 50) + '离婚"}').encode(), json_type
    if roll < 0.62:
        return b'{"text": ' + b"9" * rng.choice([10, 5000, 20_000]) + b"}", json_type
    if roll < 0.66:
        return rng.choice([b"NaN", b'{"text": Infinity}', b'{"text": 1e999999}']), json_type
    if roll < 0.71:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))), json_type
    if roll < 0.75:
        return ('{"text": "你好", "text": "' + random_text(rng) + '"}').encode(), json_type
    if roll < 0.79:
        return '{"text": "你好"}'.encode("utf-16"), json_type
    if roll < 0.83:
        return b'{"text": "\x00\x01\x02"}', json_type
    if roll < 0.87:
        return b'{"text": "hi"}', rng.choice(
            ["text/plain", "", "application/x-www-form-urlencoded"]
        )
    if roll < 0.90:
        return json.dumps({"text": "问" * 2001}).encode(), json_type
    if roll < 0.93:
        return json.dumps({"text": {"$gt": ""}, "user": {"a": [1] * 100}}).encode(), json_type
    if roll < 0.96:
        return ("{" * 300).encode(), json_type
    return b"", json_type


def checked_reply(sender: WeChatSender, mode: str, response: requests.Response) -> None:
    """A 200 is "success" or a reply that parses (and decrypts and verifies in safe mode)."""
    if response.status_code != 200 or response.content == b"success":
        return
    if "encrypt_type=aes" in (response.request.url or "").lower():
        sender.open_reply(Response(response.content))  # type: ignore[arg-type]
    else:
        assert parse_xml(response.content)["MsgType"] == "text"


def run_pass(
    jobs: list[Callable[[requests.Session], str]], give_up: float
) -> tuple[Counter[str], int]:
    """Run ``jobs`` on :data:`CLIENTS` keep-alive sessions until done or ``give_up``."""
    counts: Counter[str] = Counter()
    sent = count()

    def worker(part: list[Callable[[requests.Session], str]]) -> Counter[str]:
        seen: Counter[str] = Counter()
        with requests.Session() as session:
            for job in part:
                if time.monotonic() > give_up:
                    break
                seen[job(session)] += 1
                next(sent)
        return seen

    with ThreadPoolExecutor(CLIENTS) as pool:
        for seen in pool.map(worker, [jobs[n::CLIENTS] for n in range(CLIENTS)]):
            counts.update(seen)
    return counts, next(sent)


@pytest.fixture
def server(database_path: Path) -> Iterator[Gunicorn]:
    """The app under gunicorn as shipped; addresses unlimited (every body comes from one)."""
    with gunicorn_server(database_path, RATE_LIMIT_PER_ADDRESS_PER_MINUTE=0) as running:
        yield running


def test_fuzz_pass_gives_no_500_and_no_traceback(server: Gunicorn) -> None:
    rng = random.Random(SEED)
    nonces = count(900_000)
    senders = {
        mode: WeChatSender(
            LoopbackClient(server.base_url),  # type: ignore[arg-type]
            TEST_CONFIG["WECHAT_TOKEN"],
            TEST_CONFIG["WECHAT_AES_KEY"],
            TEST_CONFIG["WECHAT_APP_ID"],
            nonces=nonces,
        )
        for mode in MODES
    }
    url = server.base_url

    def webhook_job(mode: str, query: dict[str, str], data: bytes) -> Callable:
        # With keep-alive on (not in gunicorn.conf.py), gunicorn drains at most 64 KB of a
        # body the app refused unread, then closes the connection although it answered
        # keep-alive: a client that sent more must not reuse the connection.
        headers = {"Connection": "close"} if len(data) > DRAINED_BYTES else {}

        def send(session: requests.Session) -> str:
            response = session.post(
                f"{url}/wechat", params=query, data=data, headers=headers, timeout=30
            )
            checked_reply(senders[mode], mode, response)
            return f"webhook {mode} {response.status_code}"

        return send

    def api_job(data: bytes, content_type: str) -> Callable:
        def send(session: requests.Session) -> str:
            headers = {"Content-Type": content_type} if content_type else {}
            response = session.post(f"{url}/api/ask", data=data, headers=headers, timeout=30)
            if response.status_code != 200:
                assert response.json()["status"] == response.status_code
            return f"api {response.status_code}"

        return send

    jobs = []
    for n in range(WEBHOOK_BODIES):
        mode = MODES[n % 3]
        jobs.append(webhook_job(mode, *webhook_request(rng, senders[mode], mode)))
        if n % 2 == 0:
            jobs.append(api_job(*api_body(rng)))
    rng.shuffle(jobs)

    started = time.monotonic()
    counts, sent = run_pass(jobs, started + TIME_BUDGET_SECONDS)
    elapsed = time.monotonic() - started
    print(f"\nfuzz pass: {sent} requests in {elapsed:.1f} s")
    for key, number in sorted(counts.items()):
        print(f"  {key}: {number}")

    assert sent == len(jobs), f"only {sent} of {len(jobs)} sent in {TIME_BUDGET_SECONDS:.0f} s"
    webhook = sum(n for key, n in counts.items() if key.startswith("webhook"))
    api = sum(n for key, n in counts.items() if key.startswith("api"))
    assert webhook >= 2000 and api >= 1000
    for mode in MODES:
        assert counts[f"webhook {mode} 200"] > 100  # many got through to the dialogue
    unexpected = {
        key: n
        for key, n in counts.items()
        if int(key.rsplit(" ", 1)[1])
        not in (API_STATUSES if key.startswith("api") else WEBHOOK_STATUSES)
    }
    assert unexpected == {}
    log = server.log_text()
    assert "Traceback" not in log and "unhandled error" not in log
