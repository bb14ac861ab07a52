"""Calls to the WeChat API server: the access token every call needs, and 客服 messages.

The access token comes from ``cgi-bin/stable_token``: unlike the older ``cgi-bin/token``,
fetching one does not invalidate the token other workers hold, so any number of
processes can share an account. The token is kept in the database (``wechat_tokens``)
and reused until five minutes before it expires; a call refused for an invalid or
expired token (40001, 40014, 42001) fetches a new one and is retried once — never more
(wechatpy's client retries without bound, see the team's TOOLING notes).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from sqlite_utils import Database

from knowledge.db import write

log = logging.getLogger(__name__)

TOKEN_MARGIN = 300.0  # seconds before expiry at which a token is renewed
_STALE_TOKEN_CODES = {40001, 40014, 42001}


class WeChatAPIError(RuntimeError):
    """The WeChat API refused a call or could not be reached."""

    def __init__(self, message: str, errcode: int | None = None) -> None:
        super().__init__(message)
        self.errcode = errcode


class WeChatAPI:
    """One Official Account's API client; the token store is the database ``db``."""

    def __init__(
        self, db: Database, base_url: str, app_id: str, secret: str, timeout: float = 5.0
    ) -> None:
        self.db = db
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.secret = secret
        self.timeout = timeout

    def access_token(self, renew: bool = False) -> str:
        """A valid access token: the stored one, or a new one when it is (nearly) expired."""
        if not renew:
            row = self.db.execute(
                "SELECT token, expires_at FROM wechat_tokens WHERE app_id = ?", [self.app_id]
            ).fetchone()
            if row and row[1] - TOKEN_MARGIN > time.time():
                return row[0]
        answer = self._post(
            "/cgi-bin/stable_token",
            {"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret},
        )
        token, lifetime = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(lifetime, int):
            raise WeChatAPIError(f"access token answer without a token: {answer!r}")
        with write(self.db):
            self.db["wechat_tokens"].upsert(
                {"app_id": self.app_id, "token": token, "expires_at": time.time() + lifetime},
                pk="app_id",
            )
        log.info("wechat access token renewed for %s (valid %d s)", self.app_id, lifetime)
        return token

    def call(
        self, path: str, payload: dict[str, Any] | None = None, file: Path | None = None
    ) -> dict[str, Any]:
        """POST ``payload`` (or ``file`` as the form field ``media``) to ``path``; the answer.

        Raises :class:`WeChatAPIError` for an errcode other than 0, or when the server
        cannot be reached or answers something that is not JSON.
        """
        try:
            return self._post(path, payload, self.access_token(), file)
        except WeChatAPIError as error:
            if error.errcode not in _STALE_TOKEN_CODES:
                raise
            log.info("wechat access token refused (%s); renewing it once", error.errcode)
            return self._post(path, payload, self.access_token(renew=True), file)

    def send_text(self, user: str, text: str) -> None:
        """Send ``text`` to ``user`` (an OpenID) as a 客服 message.

        WeChat accepts these only within 48 hours of the resident's last message (and at
        most 5 per message); outside that window it answers 45015.
        """
        self.call(
            "/cgi-bin/message/custom/send",
            {"touser": user, "msgtype": "text", "text": {"content": text}},
        )

    def upload_image(self, image: Path) -> str:
        """Upload an image for use inside an article body (media/uploadimg); its URL."""
        return str(self.call("/cgi-bin/media/uploadimg", file=image)["url"])

    def add_image_material(self, image: Path) -> str:
        """Keep ``image`` as permanent material (an article's cover); its media_id."""
        return str(self.call("/cgi-bin/material/add_material?type=image", file=image)["media_id"])

    def add_draft(self, articles: list[dict[str, Any]]) -> str:
        """Save articles to the 草稿箱 (draft/add); the media_id mass sends of mpnews need."""
        return str(self.call("/cgi-bin/draft/add", {"articles": articles})["media_id"])

    def mass_send(
        self, message: dict[str, Any], tag_id: int | None, clientmsgid: str
    ) -> dict[str, Any]:
        """群发 ``message`` (``{"msgtype": …, <type>: …}``) to all followers or one tag.

        WeChat refuses a repeat of ``clientmsgid`` within 24 hours (45065). The answer holds
        ``msg_id``; errcode 0 only means the job was accepted (MASSSENDJOBFINISH follows).
        """
        audience = {"is_to_all": True} if tag_id is None else {"is_to_all": False, "tag_id": tag_id}
        payload = {"filter": audience, **message, "send_ignore_reprint": 0}
        return self.call("/cgi-bin/message/mass/sendall", {**payload, "clientmsgid": clientmsgid})

    def mass_preview(self, message: dict[str, Any], openid: str) -> dict[str, Any]:
        """Send ``message`` to one staff member's phone (mass/preview); uses no quota."""
        return self.call("/cgi-bin/message/mass/preview", {"touser": openid, **message})

    def mass_status(self, msg_id: str) -> dict[str, Any]:
        """The state of a mass send (mass/get): ``msg_status`` such as SEND_SUCCESS."""
        return self.call("/cgi-bin/message/mass/get", {"msg_id": msg_id})

    def tags(self) -> list[dict[str, Any]]:
        """The account's follower tags: ``[{"id", "name", "count"}, …]``."""
        return list(self._get("/cgi-bin/tags/get").get("tags", []))

    def create_menu(self, buttons: list[dict[str, Any]]) -> None:
        """Replace the account's custom menu (menu/create)."""
        self.call("/cgi-bin/menu/create", {"button": buttons})

    def _get(self, path: str) -> dict[str, Any]:
        try:
            return self._post(path, None, self.access_token(), method="GET")
        except WeChatAPIError as error:
            if error.errcode not in _STALE_TOKEN_CODES:
                raise
            return self._post(path, None, self.access_token(renew=True), method="GET")

    def _post(
        self,
        path: str,
        payload: dict[str, Any] | None,
        token: str | None = None,
        file: Path | None = None,
        method: str = "POST",
    ) -> dict:
        params = {"access_token": token} if token else None
        try:
            if file is not None:
                with file.open("rb") as handle:
                    response = requests.post(
                        self.base_url + path,
                        files={"media": (file.name, handle)},
                        params=params,
                        timeout=self.timeout,
                    )
            elif method == "GET":
                response = requests.get(self.base_url + path, params=params, timeout=self.timeout)
            else:
                # WeChat reads UTF-8 JSON and wants Chinese unescaped (\uXXXX counts 6 bytes).
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                response = requests.post(
                    self.base_url + path,
                    data=data,
                    params=params,
                    timeout=self.timeout,
                    headers={"Content-Type": "application/json; charset=utf-8"},
                )
        except requests.RequestException as error:
            raise WeChatAPIError(f"WeChat API {path} unreachable: {error}") from error
        try:
            answer = response.json()
        except ValueError as error:
            raise WeChatAPIError(
                f"WeChat API {path} answered HTTP {response.status_code} without JSON"
            ) from error
        if not isinstance(answer, dict):
            raise WeChatAPIError(f"WeChat API {path} answered {answer!r}")
        errcode = answer.get("errcode", 0)
        if errcode:
            raise WeChatAPIError(
                f"WeChat API {path}: {errcode} {answer.get('errmsg', '')}", errcode=errcode
            )
        return answer


def api_for(app: Flask, db: Database) -> WeChatAPI | None:
    """The account's API client, or None while the AppID or AppSecret is not set."""
    config = app.config
    if not config["WECHAT_APP_ID"] or not config["WECHAT_APP_SECRET"]:
        return None
    return WeChatAPI(
        db, config["WECHAT_API_BASE"], config["WECHAT_APP_ID"], config["WECHAT_APP_SECRET"]
    )
