"""Several instances of one shop sign and verify quote tokens alike when they share $TRADEIN_QUOTE_KEYS."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest

from grading_questionnaire import example_answers
from tradein_sdk import ConfigurationError, KeyRing, TokenSignatureError, TradeIn

if TYPE_CHECKING:
    from pathlib import Path

IPHONE = "apple-iphone-13-128gb"


def _text(secret: bytes) -> str:
    return base64.urlsafe_b64encode(secret).decode().rstrip("=")


def _token(facade: TradeIn) -> str:
    return facade.quote(IPHONE, example_answers("smartphone", "worn").answers).token


def test_instances_share_the_keys_of_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Host A's token verifies on host B (each with its own data directory), rotation order kept."""
    old, new = KeyRing.generate(key_id="k1").active_key, KeyRing.generate(key_id="k2").active_key
    monkeypatch.setenv("TRADEIN_QUOTE_KEYS", f"k2={_text(new.secret)},k1={_text(old.secret)}")
    database = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    host_a = TradeIn.embedded(tmp_path / "a", database_url=database)
    host_b = TradeIn.embedded(tmp_path / "b", database_url=database)
    try:
        token = _token(host_a)
        assert host_b.verify_token(token).quote_id == host_a.verify_token(token).quote_id
        assert host_a.key_ring.active_key.key_id == "k2"
        assert not (tmp_path / "a" / "quote-keys.json").exists()  # no key generated beside the variable
    finally:
        host_a.close()
        host_b.close()


def test_without_the_variable_each_data_directory_has_its_own_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key file per installation: another installation refuses the token."""
    monkeypatch.delenv("TRADEIN_QUOTE_KEYS", raising=False)
    host_a, host_b = TradeIn.embedded(tmp_path / "a"), TradeIn.embedded(tmp_path / "b")
    try:
        with pytest.raises(TokenSignatureError):
            host_b.verify_token(_token(host_a))
    finally:
        host_a.close()
        host_b.close()


def test_a_malformed_variable_is_named_without_its_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken entry is a ConfigurationError naming the entry, never echoing a secret."""
    monkeypatch.setenv("TRADEIN_QUOTE_KEYS", "k1=c2VjcmV0LXRoYXQtaXMtdG9vLXNob3J0")
    with pytest.raises(ConfigurationError) as raised:
        TradeIn.embedded(tmp_path)
    assert "TRADEIN_QUOTE_KEYS entry 1" in str(raised.value)
    assert "c2VjcmV0" not in str(raised.value)
