"""Residents are stored as keyed hashes, one namespace per channel."""

from __future__ import annotations

import pytest

from knowledge.residents import hash_secret, resident_key


def test_keys_are_stable_keyed_and_namespaced():
    wx = resident_key("k1", "wx", "oABC123")
    assert wx == resident_key("k1", "wx", "oABC123")
    assert wx.startswith("wx:") and "oABC123" not in wx
    assert resident_key("k2", "wx", "oABC123") != wx
    api = resident_key("k1", "api", "oABC123")
    assert api.startswith("api:") and api[4:] != wx[3:]


def test_unknown_channel_refused():
    with pytest.raises(ValueError, match="unknown channel"):
        resident_key("k", "sms", "x")


def test_hash_secret_prefers_its_own_key():
    assert hash_secret({"SECRET_KEY": "s", "RESIDENT_HASH_KEY": ""}) == "s"
    assert hash_secret({"SECRET_KEY": "s", "RESIDENT_HASH_KEY": "r"}) == "r"
