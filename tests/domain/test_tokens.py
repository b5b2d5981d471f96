from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import json
import random
import stat
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradein_sdk._domain.money import Money
from tradein_sdk._domain.tokens import (
    MAX_TOKEN_LENGTH,
    KeyRing,
    QuoteClaims,
    SigningKey,
    issue_quote_token,
    verify_quote_token,
)
from tradein_sdk._errors import (
    ConfigurationError,
    QuoteTokenError,
    TokenAudienceError,
    TokenExpiredError,
    TokenMalformedError,
    TokenSignatureError,
    TokenUnknownKeyError,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SECRET_1 = bytes(range(32))
SECRET_2 = bytes(range(100, 140))
KEY_1 = SigningKey(key_id="k1", secret=SECRET_1)
KEY_2 = SigningKey(key_id="k2-2026_b", secret=SECRET_2)
RING = KeyRing(keys=[KEY_1, KEY_2], active_key_id="k1")
RING_SIGNING_WITH_2 = KeyRing(keys=[KEY_1, KEY_2], active_key_id=KEY_2.key_id)
BASE64URL = string.ascii_letters + string.digits + "-_"
CURRENCIES = ("EUR", "USD", "GBP", "JPY", "CHF", "BHD", "SEK", "PLN")


def make_claims(**changes: Any) -> QuoteClaims:  # noqa: ANN401 - any QuoteClaims field
    """Valid claims for shop-berlin, issued at NOW and valid for 30 minutes, with ``changes`` applied."""
    claims = QuoteClaims(
        quote_id="q-0001",
        amount=Money("412.50", "EUR"),
        audience="shop-berlin",
        issued_at=NOW,
        expires_at=NOW + timedelta(minutes=30),
    )
    return attrs.evolve(claims, **changes)


def b64(data: bytes) -> str:
    """Base64url without padding, written independently of the module under test."""
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64(text: str) -> bytes:
    """Decode base64url without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: SigningKey, payload_text: str) -> str:
    """Build a token around any payload text, signed as the format document says."""
    signed = f"tq1.{key.key_id}.{payload_text}"
    return f"{signed}.{b64(hmac.new(key.secret, signed.encode('ascii'), hashlib.sha256).digest())}"


def canonical(fields: dict[str, Any]) -> str:
    """The payload text of ``fields`` as canonical JSON."""
    return b64(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("ascii"))


def payload_fields(token: str) -> dict[str, Any]:
    """The decoded payload of a token."""
    fields: dict[str, Any] = json.loads(unb64(token.split(".")[2]))
    return fields


def verify(token: str, ring: KeyRing = RING, *, audience: str = "shop-berlin") -> QuoteClaims:
    """Verify at NOW for shop-berlin."""
    return verify_quote_token(token, ring, audience=audience, now=NOW)


# -- issuing and verifying ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("412.50", "EUR"), ("12.5", "USD"), ("0", "JPY"), ("1234.567", "BHD"), ("999999999999999", "GBP")],
    ids=["eur-cents", "usd-one-place", "jpy-zero", "bhd-three-places", "fifteen-digits"],
)
def test_claims_survive_the_round_trip_exactly(amount: str, currency: str) -> None:
    """Verification returns the issued claims: amount digits, currency, ids and times to the second."""
    claims = make_claims(amount=Money(amount, currency))
    verified = verify(issue_quote_token(claims, RING))
    assert verified == attrs.evolve(claims, key_id="k1")
    assert format(verified.amount.amount, "f") == amount
    assert verified.amount.currency == currency
    assert verified.issued_at == NOW
    assert verified.expires_at == NOW + timedelta(minutes=30)
    assert verified.issued_at.tzinfo is UTC
    assert verified.expires_at.tzinfo is UTC


def test_token_follows_the_documented_format() -> None:
    """A token is tq1.<key id>.<base64url canonical JSON>.<base64url HMAC-SHA256 of the rest>."""
    token = issue_quote_token(make_claims(), RING)
    expected_json = (
        '{"amt":"412.50","aud":"shop-berlin","cur":"EUR","exp":1795523400,"iat":1795521600,"qid":"q-0001"}'
    )
    assert token == sign(KEY_1, b64(expected_json.encode("ascii")))
    assert token.startswith("tq1.k1.")
    assert "=" not in token
    assert len(token.split(".")[3]) == 43


def test_times_are_kept_in_utc_whole_seconds() -> None:
    """Aware times in any zone become UTC, and fractions of a second are dropped before signing."""
    berlin = timezone(timedelta(hours=1))
    claims = make_claims(
        issued_at=datetime(2026, 11, 24, 13, 0, 0, 999_999, tzinfo=berlin),
        expires_at=datetime(2026, 11, 24, 13, 30, 0, 500_000, tzinfo=berlin),
    )
    assert claims.issued_at == NOW
    assert claims.issued_at.tzinfo is UTC
    assert claims.expires_at == NOW + timedelta(minutes=30)
    assert verify(issue_quote_token(claims, RING)).expires_at == claims.expires_at


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"issued_at": datetime(2026, 11, 24, 12, 0)}, ValueError),  # noqa: DTZ001 - naive on purpose
        ({"expires_at": datetime(2026, 11, 24, 13, 0)}, ValueError),  # noqa: DTZ001 - naive on purpose
        ({"expires_at": NOW}, ValueError),
        ({"expires_at": NOW + timedelta(microseconds=999_999)}, ValueError),
        ({"expires_at": NOW - timedelta(hours=1)}, ValueError),
        ({"quote_id": ""}, ValueError),
        ({"quote_id": "q\n1"}, ValueError),
        ({"audience": "s" * 129}, ValueError),
        ({"audience": "shop\x00"}, ValueError),
        ({"amount": Decimal("12.50")}, TypeError),
    ],
    ids=[
        "naive-issued-at",
        "naive-expires-at",
        "expires-at-issue",
        "expires-within-the-same-second",
        "expires-before-issue",
        "empty-quote-id",
        "quote-id-with-newline",
        "audience-too-long",
        "audience-with-control-character",
        "amount-not-money",
    ],
)
def test_invalid_claims_are_refused(changes: dict[str, Any], error: type[Exception]) -> None:
    """Claims with naive times, an empty or non-positive validity, bad ids or a bare amount are refused."""
    with pytest.raises(error):
        make_claims(**changes)


def test_claims_too_large_for_a_token_are_refused_when_issuing() -> None:
    """Issuing refuses claims whose token would exceed the length verification accepts."""
    claims = make_claims(amount=Money("0." + "1" * 1500, "EUR"))
    with pytest.raises(ValueError, match="at most 2048"):
        issue_quote_token(claims, RING)


def test_verification_needs_an_aware_now() -> None:
    """A naive ``now`` is refused rather than guessed."""
    token = issue_quote_token(make_claims(), RING)
    with pytest.raises(ValueError, match="no timezone"):
        verify_quote_token(token, RING, audience="shop-berlin", now=datetime(2026, 11, 24, 12, 0))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("now", "verifies"),
    [
        (NOW - timedelta(days=1), True),
        (NOW + timedelta(minutes=30) - timedelta(seconds=1), True),
        (NOW + timedelta(minutes=30), False),
        (NOW + timedelta(minutes=30, microseconds=1), False),
        (datetime(2026, 11, 24, 13, 29, 59, tzinfo=timezone(timedelta(hours=1))), True),
        (datetime(2026, 11, 24, 13, 30, 0, tzinfo=timezone(timedelta(hours=1))), False),
    ],
    ids=["day-before-issue", "last-second", "at-expiry", "just-after", "last-second-in-cet", "expiry-in-cet"],
)
def test_expiry_is_exclusive(now: datetime, *, verifies: bool) -> None:
    """A token verifies strictly before its expiry and is refused from the expiry on, in any zone."""
    token = issue_quote_token(make_claims(), RING)
    if verifies:
        assert verify_quote_token(token, RING, audience="shop-berlin", now=now).quote_id == "q-0001"
    else:
        with pytest.raises(TokenExpiredError, match="expired at 2026-11-24T12:30:00"):
            verify_quote_token(token, RING, audience="shop-berlin", now=now)


def _expired() -> None:
    verify_quote_token(
        issue_quote_token(make_claims(), RING), RING, audience="shop-berlin", now=NOW + timedelta(hours=1)
    )


def _wrong_audience() -> None:
    verify(issue_quote_token(make_claims(), RING), audience="shop-hamburg")


def _unknown_key() -> None:
    verify(issue_quote_token(make_claims(), KeyRing.generate(key_id="k9")))


def _bad_signature() -> None:
    verify(
        issue_quote_token(
            make_claims(), KeyRing(keys=[KeyRing.generate(key_id="k1").active_key], active_key_id="k1")
        )
    )


def _malformed() -> None:
    verify("not a token")


REFUSALS: list[tuple[Callable[[], None], type[QuoteTokenError], str]] = [
    (_expired, TokenExpiredError, "token_expired"),
    (_wrong_audience, TokenAudienceError, "token_wrong_audience"),
    (_unknown_key, TokenUnknownKeyError, "token_unknown_key"),
    (_bad_signature, TokenSignatureError, "token_signature_invalid"),
    (_malformed, TokenMalformedError, "token_malformed"),
]


@pytest.mark.parametrize(("refusal", "error", "code"), REFUSALS, ids=[code for _, _, code in REFUSALS])
def test_each_refusal_has_its_own_class_and_code(
    refusal: Callable[[], None], error: type[QuoteTokenError], code: str
) -> None:
    """Expired, wrong-audience, unknown-key, bad-signature and malformed tokens are told apart by code."""
    with pytest.raises(error) as caught:
        refusal()
    assert caught.value.code == code
    assert type(caught.value) is error
    assert len({code for _, _, code in REFUSALS}) == len(REFUSALS)


def test_audience_refusal_names_both_audiences() -> None:
    """The wrong-audience error says whom the token is for and who asked."""
    with pytest.raises(TokenAudienceError) as caught:
        _wrong_audience()
    assert caught.value.params == {
        "quote_id": "q-0001",
        "token_audience": "shop-berlin",
        "audience": "shop-hamburg",
    }


def test_audience_must_match_exactly() -> None:
    """Audiences are compared as given: another case or trailing space is another audience."""
    token = issue_quote_token(make_claims(), RING)
    for audience in ("Shop-Berlin", "shop-berlin ", "shop-berli", ""):
        with pytest.raises(TokenAudienceError):
            verify(token, audience=audience)


# -- rotation ----------------------------------------------------------------------------------


def test_rotation_keeps_old_tokens_valid_until_the_old_key_is_dropped() -> None:
    """After rotation new tokens use the new key, old ones verify while held, then fail as unknown key."""
    old_ring = KeyRing.generate(key_id="2026-01")
    old_token = issue_quote_token(make_claims(quote_id="q-old"), old_ring)

    rotated = old_ring.with_key(SigningKey.generate(key_id="2026-02"))
    new_token = issue_quote_token(make_claims(quote_id="q-new"), rotated)
    assert rotated.active_key_id == "2026-02"
    assert new_token.split(".")[1] == "2026-02"
    assert verify(old_token, rotated).key_id == "2026-01"
    assert verify(new_token, rotated).key_id == "2026-02"
    with pytest.raises(TokenUnknownKeyError):
        verify(new_token, old_ring)

    retired = rotated.without_key("2026-01")
    assert retired.key_ids == ("2026-02",)
    assert verify(new_token, retired).quote_id == "q-new"
    with pytest.raises(TokenUnknownKeyError) as caught:
        verify(old_token, retired)
    assert caught.value.code == "token_unknown_key"
    assert old_ring.key_ids == ("2026-01",)  # rings are values: rotation made new ones


def test_a_key_can_be_added_before_it_signs() -> None:
    """``with_key(active=False)`` adds a verifying key while the current key keeps signing."""
    staged = RING.with_key(SigningKey.generate(key_id="k3"), active=False)
    assert staged.active_key == KEY_1
    assert staged.key_ids == ("k1", "k2-2026_b", "k3")
    assert issue_quote_token(make_claims(), staged).split(".")[1] == "k1"
    assert staged.get("k3") is not None
    assert staged.get("k4") is None


def test_the_active_key_signs_and_every_held_key_verifies() -> None:
    """Tokens name the ring's active key; a ring holding both keys verifies tokens of either."""
    assert verify(issue_quote_token(make_claims(), RING)).key_id == "k1"
    assert verify(issue_quote_token(make_claims(), RING_SIGNING_WITH_2)).key_id == "k2-2026_b"


@pytest.mark.parametrize(
    ("key_id", "message"),
    [("k1", "is the active key"), ("k7", "holds no key")],
    ids=["active-key", "key-not-held"],
)
def test_dropping_the_active_or_an_absent_key_is_refused(key_id: str, message: str) -> None:
    """A ring cannot drop the key that signs, nor a key it does not hold."""
    with pytest.raises(ConfigurationError, match=message):
        RING.without_key(key_id)


def test_claims_key_id_is_ignored_when_issuing() -> None:
    """Re-issuing verified claims signs with the active key, not the key named in the claims."""
    claims = verify(issue_quote_token(make_claims(), RING_SIGNING_WITH_2))
    assert verify(issue_quote_token(claims, RING)).key_id == "k1"


# -- tampering ---------------------------------------------------------------------------------

Mutator = Callable[[random.Random, str], str]


def seeded(seed: int | str) -> random.Random:
    """A reproducible generator of test data (not of secrets)."""
    return random.Random(seed)  # noqa: S311 - reproducible mutations, nothing secret


def _replace(token: str, index: int, character: str) -> str:
    return token[:index] + character + token[index + 1 :]


def _other(rng: random.Random, pool: str, current: str) -> str:
    return rng.choice([character for character in pool if character != current])


def flip_character(rng: random.Random, token: str) -> str:
    """Replace one character anywhere with another (base64url, separators, padding, non-ASCII)."""
    index = rng.randrange(len(token))
    return _replace(token, index, _other(rng, BASE64URL + ".=+/ \n\x00é", token[index]))


def flip_last_character(rng: random.Random, token: str) -> str:
    """Replace the last character of a random segment with another base64url character."""
    segments = token.split(".")
    which = rng.randrange(4)
    segment = segments[which]
    segments[which] = segment[:-1] + _other(rng, BASE64URL, segment[-1])
    return ".".join(segments)


def flip_spare_bits(rng: random.Random, token: str) -> str:
    """Change only the unused low bits of the last character of the payload or the signature."""
    segments = token.split(".")
    candidates = [which for which in (2, 3) if len(segments[which]) % 4 in {2, 3}]
    which = rng.choice(candidates)
    segment = segments[which]
    spare = 4 if len(segment) % 4 == 2 else 2
    value = BASE64URL_ORDER.index(segment[-1])
    sibling = value ^ rng.randrange(1, 2**spare)
    segments[which] = segment[:-1] + BASE64URL_ORDER[sibling]
    return ".".join(segments)


def flip_byte(rng: random.Random, token: str) -> str:
    """Flip one bit of the decoded payload or signature and re-encode it canonically."""
    segments = token.split(".")
    which = rng.choice((2, 3))
    data = bytearray(unb64(segments[which]))
    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    segments[which] = b64(bytes(data))
    return ".".join(segments)


def swap_to_held_key_id(_rng: random.Random, token: str) -> str:
    """Name the other key of the ring as the signer."""
    segments = token.split(".")
    segments[1] = KEY_2.key_id if segments[1] == KEY_1.key_id else KEY_1.key_id
    return ".".join(segments)


def swap_to_unknown_key_id(rng: random.Random, token: str) -> str:
    """Name a well-formed key id the ring does not hold."""
    segments = token.split(".")
    while (key_id := "".join(rng.choices(BASE64URL, k=rng.randint(1, 32)))) in RING.key_ids:
        pass
    segments[1] = key_id
    return ".".join(segments)


def truncate_signature(rng: random.Random, token: str) -> str:
    """Drop 1 to 43 characters from the end of the signature."""
    return token[: -rng.randint(1, 43)]


def extend_signature(rng: random.Random, token: str) -> str:
    """Append 1 to 4 base64url characters (or padding) to the signature."""
    return token + "".join(rng.choices(BASE64URL + "=", k=rng.randint(1, 4)))


def alter_claim(rng: random.Random, token: str) -> str:
    """Re-encode the payload with another amount, currency, audience, expiry, issue time or quote id."""
    segments = token.split(".")
    fields = payload_fields(token)
    name = rng.choice(sorted(fields))
    alterations: dict[str, Callable[[Any], Any]] = {
        "amt": lambda amount: format(Decimal(amount) * 10 + 1, "f"),
        "cur": lambda currency: "USD" if currency != "USD" else "EUR",
        "aud": lambda audience: audience + "-2",
        "exp": lambda expiry: expiry + rng.randint(1, 10**7),
        "iat": lambda issued: issued - rng.randint(1, 10**7),
        "qid": lambda quote_id: quote_id[::-1] + "x",
    }
    fields[name] = alterations[name](fields[name])
    segments[2] = canonical(fields)
    return ".".join(segments)


def remove_segment(rng: random.Random, token: str) -> str:
    """Leave out one of the four segments."""
    segments = token.split(".")
    del segments[rng.randrange(4)]
    return ".".join(segments)


def duplicate_segment(rng: random.Random, token: str) -> str:
    """Repeat one of the four segments."""
    segments = token.split(".")
    which = rng.randrange(4)
    segments.insert(which, segments[which])
    return ".".join(segments)


def change_case(rng: random.Random, token: str) -> str:
    """Swap the case of one letter, or upper- or lower-case the whole token."""
    choice = rng.randrange(3)
    if choice == 0:
        return token.upper()
    if choice == 1:
        return token.lower() if token.lower() != token else token.upper()
    index = rng.choice([index for index, character in enumerate(token) if character.isalpha()])
    return _replace(token, index, token[index].swapcase())


def insert_or_delete_character(rng: random.Random, token: str) -> str:
    """Insert a base64url character at, or delete the character at, a random position."""
    index = rng.randrange(len(token))
    if rng.random() < 0.5:
        return token[:index] + rng.choice(BASE64URL) + token[index:]
    return token[:index] + token[index + 1 :]


BASE64URL_ORDER = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
MUTATORS: list[Mutator] = [
    flip_character,
    flip_last_character,
    flip_spare_bits,
    flip_byte,
    swap_to_held_key_id,
    swap_to_unknown_key_id,
    truncate_signature,
    extend_signature,
    alter_claim,
    remove_segment,
    duplicate_segment,
    change_case,
    insert_or_delete_character,
]


def sample_tokens() -> list[str]:
    """A spread of valid tokens: several amounts, currencies, ids, lifetimes and both signing keys."""
    rng = seeded(20261124)
    tokens = []
    for number in range(60):
        currency = CURRENCIES[number % len(CURRENCIES)]
        claims = make_claims(
            quote_id=f"q-{number:0{1 + number % 7}d}",
            amount=Money(Decimal(rng.randrange(0, 10**8)).scaleb(-rng.randrange(0, 4)), currency),
            audience=rng.choice(["shop-berlin", "store/7", "Läden München", "s"]),
            issued_at=NOW - timedelta(seconds=rng.randrange(10**6)),
            expires_at=NOW + timedelta(seconds=rng.randrange(1, 10**7)),
        )
        tokens.append(issue_quote_token(claims, RING if number % 2 else RING_SIGNING_WITH_2))
    return tokens


TOKENS = sample_tokens()


def test_sample_tokens_verify_and_vary() -> None:
    """The tokens the tampering tests start from are valid and cover every payload length modulo 4."""
    for token in TOKENS:
        verify(token, audience=payload_fields(token)["aud"])
    assert {len(token.split(".")[2]) % 4 for token in TOKENS} == {0, 2, 3}
    assert {token.split(".")[1] for token in TOKENS} == {"k1", "k2-2026_b"}


def test_ten_thousand_mutated_tokens_none_verifies() -> None:
    """10,000 randomly mutated tokens all differ from the original and are refused with a QuoteTokenError."""
    rng = seeded(1_000_003)
    verified: list[str] = []
    codes: dict[str, set[str]] = {mutator.__name__: set() for mutator in MUTATORS}
    for number in range(10_000):
        mutator = MUTATORS[number % len(MUTATORS)]
        token = rng.choice(TOKENS)
        mutant = mutator(rng, token)
        assert mutant != token, mutator.__name__
        try:
            verify(mutant, audience=payload_fields(token)["aud"])
        except QuoteTokenError as error:
            codes[mutator.__name__].add(error.code)
        else:
            verified.append(mutant)
    assert verified == []
    assert all(codes.values())
    assert set().union(*codes.values()) == {
        "token_malformed",
        "token_signature_invalid",
        "token_unknown_key",
    }


@pytest.mark.parametrize(
    ("mutator", "code"),
    [
        (flip_spare_bits, "token_malformed"),
        (flip_byte, "token_signature_invalid"),
        (swap_to_held_key_id, "token_signature_invalid"),
        (swap_to_unknown_key_id, "token_unknown_key"),
        (truncate_signature, "token_malformed"),
        (extend_signature, "token_malformed"),
        (alter_claim, "token_signature_invalid"),
        (remove_segment, "token_malformed"),
        (duplicate_segment, "token_malformed"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_each_kind_of_tampering_gets_its_code(mutator: Mutator, code: str) -> None:
    """Each kind of tampering is refused with the code its verification step gives."""
    rng = seeded(mutator.__name__)
    for token in TOKENS:
        with pytest.raises(QuoteTokenError) as caught:
            verify(mutator(rng, token), audience=payload_fields(token)["aud"])
        assert caught.value.code == code


def test_every_spare_bit_sibling_of_a_last_character_is_refused() -> None:
    """Texts that decode to the same bytes as the signature or payload, but are not canonical, are refused."""
    for token in TOKENS:
        segments = token.split(".")
        for which in (2, 3):
            segment = segments[which]
            for character in BASE64URL:
                sibling = segment[:-1] + character
                if character == segment[-1] or unb64(sibling) != unb64(segment):
                    continue
                with pytest.raises(TokenMalformedError, match="canonical"):
                    verify(".".join([*segments[:which], sibling, *segments[which + 1 :]]))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "tq1",
        "tq1.k1.e30",
        "tq1.k1.e30.sig.extra",
        "tq1.k1." + "A" * (MAX_TOKEN_LENGTH - 50) + "." + "A" * 43,
        "tq2.k1.e30." + "A" * 43,
        "TQ1.k1.e30." + "A" * 43,
        "tq1..e30." + "A" * 43,
        "tq1.k" + "1" * 32 + ".e30." + "A" * 43,
        "tq1.k 1.e30." + "A" * 43,
        "tq1.ké.e30." + "A" * 43,
        "tq1.k1.." + "A" * 43,
        "tq1.k1.e30=." + "A" * 43,
        "tq1.k1.e3+0." + "A" * 43,
        "tq1.k1.e3/0." + "A" * 43,
        "tq1.k1.e30AA." + "A" * 43,
        "tq1.k1.e30." + "A" * 42,
        "tq1.k1.e30." + "A" * 44,
        "tq1.k1.e30." + "A" * 42 + "B",
        "tq1.k1.e30." + "A" * 43 + "=",
        "tq1.k1.e30." + "A" * 43 + "\n",
        " tq1.k1.e30." + "A" * 43,
    ],
    ids=[
        "empty",
        "version-only",
        "three-segments",
        "five-segments",
        "too-long",
        "other-version",
        "upper-case-version",
        "empty-key-id",
        "key-id-too-long",
        "key-id-with-space",
        "key-id-not-ascii",
        "empty-payload",
        "padded-payload",
        "standard-base64-plus",
        "standard-base64-slash",
        "impossible-base64-length",
        "short-signature",
        "long-signature",
        "non-canonical-signature",
        "padded-signature",
        "trailing-newline",
        "leading-space",
    ],
)
def test_texts_of_the_wrong_shape_are_malformed(token: str) -> None:
    """Texts that are not tq1.<key id>.<payload>.<43-character signature> in base64url are malformed."""
    with pytest.raises(TokenMalformedError) as caught:
        verify(token)
    assert caught.value.code == "token_malformed"


@pytest.mark.parametrize("value", [b"tq1.k1.e30.sig", None, 42], ids=["bytes", "none", "int"])
def test_values_that_are_not_text_are_malformed(value: object) -> None:
    """Bytes, None or numbers from a request body are refused as malformed, not with a TypeError."""
    with pytest.raises(TokenMalformedError, match="is text"):
        verify(value)  # type: ignore[arg-type]


VALID_FIELDS: dict[str, Any] = {
    "aud": "shop-berlin",
    "amt": "412.50",
    "cur": "EUR",
    "exp": 1795523400,
    "iat": 1795521600,
    "qid": "q-0001",
}


def _fields(**changes: Any) -> str:  # noqa: ANN401 - any JSON value
    return canonical({**VALID_FIELDS, **changes})


def _without(name: str) -> str:
    return canonical({key: value for key, value in VALID_FIELDS.items() if key != name})


@pytest.mark.parametrize(
    ("payload_text", "problem"),
    [
        (b64(b"not json"), "not ASCII JSON"),
        (b64('{"qid":"é"}'.encode()), "not ASCII JSON"),
        (b64(b"[" * 1400), "not ASCII JSON"),
        (b64(b'{"aud":"a","aud":"b"}'), "duplicate"),
        (b64(b"[1, 2]"), "exactly the fields"),
        (_without("exp"), "exactly the fields"),
        (_fields(extra=1), "exactly the fields"),
        (_fields(amt=412.5), "strings"),
        (_fields(qid=None), "strings"),
        (_fields(exp="1795523400"), "integers"),
        (_fields(exp=True), "integers"),
        (_fields(iat=1795521600.0), "integers"),
        (_fields(cur="XXY"), "amount and currency"),
        (_fields(amt="NaN"), "amount and currency"),
        (_fields(amt="twelve"), "amount and currency"),
        (_fields(exp=10**20), "outside the years"),
        (_fields(iat=-(10**12)), "outside the years"),
        (_fields(exp=1795521600), "at least one second after"),
        (_fields(qid=""), "quote_id must be"),
        (_fields(aud="a\tb"), "audience must be"),
        (_fields(amt="4.125e2"), "canonical"),
        (_fields(amt="+412.50"), "canonical"),
        (_fields(amt="-0"), "canonical"),
        (_fields(cur="eur"), "canonical"),
        (b64(json.dumps(VALID_FIELDS, sort_keys=True).encode()), "canonical"),
        (b64(json.dumps(VALID_FIELDS, separators=(",", ":")).encode()), "canonical"),
        (b64(b"\xef\xbb\xbf" + json.dumps(VALID_FIELDS).encode()), "not ASCII JSON"),
    ],
    ids=[
        "not-json",
        "raw-utf8",
        "deeply-nested",
        "duplicate-field",
        "array",
        "missing-field",
        "extra-field",
        "amount-as-number",
        "quote-id-null",
        "expiry-as-string",
        "expiry-as-boolean",
        "issue-time-as-float",
        "unknown-currency",
        "amount-nan",
        "amount-not-a-number",
        "expiry-beyond-year-9999",
        "issue-before-year-1",
        "expiry-not-after-issue",
        "empty-quote-id",
        "audience-with-tab",
        "amount-in-exponent-form",
        "amount-with-plus-sign",
        "negative-zero",
        "lower-case-currency",
        "json-with-spaces",
        "unsorted-keys",
        "byte-order-mark",
    ],
)
def test_signed_payloads_of_the_wrong_shape_are_malformed(payload_text: str, problem: str) -> None:
    """A correctly signed payload is still refused unless it is exactly the canonical six-field JSON."""
    with pytest.raises(TokenMalformedError, match=problem):
        verify(sign(KEY_1, payload_text))


def test_a_hand_built_canonical_payload_verifies() -> None:
    """The payload fixtures above differ from a valid token only in the field each one changes."""
    assert verify(sign(KEY_1, _fields())) == attrs.evolve(make_claims(), key_id="k1")


# -- properties --------------------------------------------------------------------------------

identifiers = st.text(
    st.characters(categories=("L", "N", "P", "S"), include_characters=" "), min_size=1, max_size=40
).filter(str.isprintable)
moneys = st.builds(
    Money,
    st.integers(0, 4).flatmap(
        lambda places: st.decimals(
            min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=places, allow_nan=False
        )
    ),
    st.sampled_from(CURRENCIES),
)
zones = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])


@st.composite
def quote_claims(draw: st.DrawFn) -> QuoteClaims:
    """Arbitrary valid claims."""
    issued_at = draw(
        st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=zones)  # noqa: DTZ001
    )
    return QuoteClaims(
        quote_id=draw(identifiers),
        amount=draw(moneys),
        audience=draw(identifiers),
        issued_at=issued_at,
        expires_at=issued_at + timedelta(seconds=draw(st.integers(1, 10**9))),
    )


@given(quote_claims())
def test_verify_returns_what_issue_signed(claims: QuoteClaims) -> None:
    """For arbitrary valid claims, verifying the issued token gives the claims back, with the key id."""
    token = issue_quote_token(claims, RING)
    assert len(token) <= MAX_TOKEN_LENGTH
    verified = verify_quote_token(token, RING, audience=claims.audience, now=claims.issued_at)
    assert verified == attrs.evolve(claims, key_id="k1")
    assert format(verified.amount.amount, "f") == format(claims.amount.amount, "f")


@given(quote_claims(), st.data())
def test_any_single_character_change_is_refused(claims: QuoteClaims, data: st.DataObject) -> None:
    """Changing any one character of a valid token, to anything else, makes it fail verification."""
    token = issue_quote_token(claims, RING)
    index = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from(BASE64URL + ".=é ").filter(lambda c: c != token[index]))
    with pytest.raises(QuoteTokenError):
        verify_quote_token(
            _replace(token, index, replacement), RING, audience=claims.audience, now=claims.issued_at
        )


# -- keys --------------------------------------------------------------------------------------


def test_secrets_are_never_shown() -> None:
    """Neither a key's nor a ring's repr shows the secret bytes."""
    assert repr(KEY_1) == "SigningKey(key_id='k1', secret=<32 bytes hidden>)"
    for shown in (repr(KEY_1), repr(RING), str(RING)):
        assert SECRET_1.hex() not in shown
        assert repr(SECRET_1) not in shown
        assert b64(SECRET_1) not in shown


def test_generated_keys_are_random_and_long_enough() -> None:
    """Generated keys have 32 random bytes; two generated rings never share a secret."""
    first, second = KeyRing.generate(key_id="k1"), KeyRing.generate(key_id="k1")
    assert len(first.active_key.secret) == 32
    assert first.active_key.secret != second.active_key.secret
    assert first.key_ids == ("k1",)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: SigningKey(key_id="k1", secret=b"x" * 31), "has 31 bytes; at least 32"),
        (lambda: SigningKey(key_id="k1", secret="x" * 32), "must be bytes, not str"),  # type: ignore[arg-type]
        (lambda: SigningKey(key_id="", secret=SECRET_1), "is not 1-32 characters"),
        (lambda: SigningKey(key_id="k" * 33, secret=SECRET_1), "is not 1-32 characters"),
        (lambda: SigningKey(key_id="k.1", secret=SECRET_1), "is not 1-32 characters"),
        (lambda: SigningKey(key_id="kö", secret=SECRET_1), "is not 1-32 characters"),
        (lambda: SigningKey(key_id=1, secret=SECRET_1), "is not 1-32 characters"),  # type: ignore[arg-type]
        (lambda: KeyRing(keys=[], active_key_id="k1"), "at least one signing key"),
        (lambda: KeyRing(keys=[KEY_1, KEY_1], active_key_id="k1"), "holds key id k1 twice"),
        (lambda: KeyRing(keys=[KEY_1, attrs.evolve(KEY_2, key_id="k1")], active_key_id="k1"), "twice"),
        (lambda: KeyRing(keys=[KEY_1], active_key_id="k2"), "active key id 'k2' is not one of the held keys"),
        (lambda: KeyRing(keys=[SECRET_1], active_key_id="k1"), "SigningKey values, not bytes"),  # type: ignore[list-item]
        (lambda: RING.with_key(KEY_2), "holds key id k2-2026_b twice"),
        (lambda: KeyRing.generate(key_id="bad id"), "is not 1-32 characters"),
    ],
    ids=[
        "short-secret",
        "text-secret",
        "empty-key-id",
        "key-id-too-long",
        "key-id-with-dot",
        "key-id-not-ascii",
        "key-id-not-text",
        "no-keys",
        "same-key-twice",
        "two-keys-one-id",
        "active-id-not-held",
        "not-a-signing-key",
        "adding-a-held-id",
        "generating-with-bad-id",
    ],
)
def test_bad_keys_and_rings_are_configuration_errors(build: Callable[[], object], message: str) -> None:
    """Short secrets, bad or duplicate key ids and an active id the ring lacks are configuration errors."""
    with pytest.raises(ConfigurationError, match=message) as caught:
        build()
    assert caught.value.code == "configuration_error"
    assert SECRET_1.hex() not in str(caught.value)


# -- environment -------------------------------------------------------------------------------


def test_keys_are_read_from_the_environment() -> None:
    """TRADEIN_QUOTE_KEYS lists key id=secret pairs; the first is active, padding and spaces are allowed."""
    padded = base64.urlsafe_b64encode(SECRET_2).decode("ascii")
    assert padded.endswith("==")
    environ = {"TRADEIN_QUOTE_KEYS": f" k2-2026_b={padded} , k1={b64(SECRET_1)}"}
    ring = KeyRing.from_environment(environ)
    assert ring == KeyRing(keys=[KEY_2, KEY_1], active_key_id="k2-2026_b")


def test_environment_is_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an argument the keys come from os.environ."""
    monkeypatch.setenv("TRADEIN_QUOTE_KEYS", f"k1={b64(SECRET_1)}")
    assert KeyRing.from_environment() == KeyRing(keys=[KEY_1], active_key_id="k1")


SHORT_SECRET = b64(b"s" * 24)
NON_CANONICAL_SECRET = b64(SECRET_1)[:-1] + BASE64URL_ORDER[BASE64URL_ORDER.index(b64(SECRET_1)[-1]) ^ 1]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "TRADEIN_QUOTE_KEYS is not set"),
        ("", "TRADEIN_QUOTE_KEYS is not set"),
        ("  ", "TRADEIN_QUOTE_KEYS is not set"),
        (b64(SECRET_1), "entry 1 is not of the form <key id>=<base64url secret>"),
        (f"k1={b64(SECRET_1)},", "entry 2 is not of the form"),
        (f"={b64(SECRET_1)}", "entry 1: signing key id '' is not 1-32 characters"),
        (f"k1={b64(SECRET_1)},k2={SHORT_SECRET}", "entry 2: the secret of signing key k2 has 24 bytes"),
        (f"k1={b64(SECRET_1)[:-1]}+", "entry 1: the secret is not base64url"),
        (f"k1={b64(SECRET_1)}===", "entry 1: the secret is not base64url"),
        (f"k1={b64(SECRET_1)[:-2]}", "entry 1: the secret is not base64url"),
        (f"k1={NON_CANONICAL_SECRET}", "entry 1: the secret is not base64url"),
        ("k1=", "entry 1: the secret of signing key k1 has 0 bytes"),
        (f"k1={b64(SECRET_1)},k1={b64(SECRET_2)}", "TRADEIN_QUOTE_KEYS: the key ring holds key id k1 twice"),
    ],
    ids=[
        "absent",
        "empty",
        "blank",
        "no-key-id",
        "trailing-comma",
        "empty-key-id",
        "short-secret",
        "standard-base64",
        "too-much-padding",
        "impossible-length",
        "non-canonical-secret",
        "empty-secret",
        "duplicate-key-id",
    ],
)
def test_bad_environment_values_are_configuration_errors(value: str | None, message: str) -> None:
    """An absent or malformed TRADEIN_QUOTE_KEYS is refused with the entry and problem, never a secret."""
    environ = {} if value is None else {"TRADEIN_QUOTE_KEYS": value}
    with pytest.raises(ConfigurationError, match=message) as caught:
        KeyRing.from_environment(environ)
    for secret in (SECRET_1, SECRET_2):
        assert b64(secret)[:20] not in str(caught.value)
    assert SHORT_SECRET not in str(caught.value)


# -- key files ---------------------------------------------------------------------------------


def test_load_or_create_creates_a_private_key_file_once(tmp_path: Path) -> None:
    """The first call writes a 0600 JSON key file with one key; later calls return the same ring."""
    path = tmp_path / "data" / "quote-keys.json"
    created = KeyRing.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document == {"active": "k1", "keys": [{"key_id": "k1", "secret": b64(created.active_key.secret)}]}
    assert KeyRing.load_or_create(path) == created
    assert KeyRing.load_or_create(str(path), key_id="other") == created
    assert sorted(item.name for item in path.parent.iterdir()) == ["quote-keys.json"]
    token = issue_quote_token(make_claims(), created)
    assert verify(token, KeyRing.load_or_create(path)).key_id == "k1"


def test_load_or_create_uses_the_given_key_id(tmp_path: Path) -> None:
    """A created key file's key carries the key id asked for."""
    assert KeyRing.load_or_create(tmp_path / "keys.json", key_id="embedded-1").key_ids == ("embedded-1",)


def test_a_key_file_written_by_hand_is_read(tmp_path: Path) -> None:
    """A key file with several keys and padded secrets gives the ring it describes."""
    path = tmp_path / "keys.json"
    keys = [
        {"key_id": "k1", "secret": base64.urlsafe_b64encode(SECRET_1).decode()},
        {"key_id": "k2-2026_b", "secret": b64(SECRET_2)},
    ]
    path.write_text(json.dumps({"active": "k2-2026_b", "keys": keys}), encoding="utf-8")
    assert KeyRing.load_or_create(path) == RING_SIGNING_WITH_2


def test_a_key_file_created_meanwhile_by_another_process_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When another process creates the key file first, its key is used and ours is discarded."""
    path = tmp_path / "keys.json"
    theirs = {"active": "k1", "keys": [{"key_id": "k1", "secret": b64(SECRET_1)}]}
    link = Path.hardlink_to

    def create_first_then_link(self: Path, target: Path | str) -> None:
        self.write_text(json.dumps(theirs), encoding="utf-8")
        link(self, target)

    monkeypatch.setattr(Path, "hardlink_to", create_first_then_link)
    assert KeyRing.load_or_create(path) == KeyRing(keys=[KEY_1], active_key_id="k1")
    assert [item.name for item in tmp_path.iterdir()] == ["keys.json"]


def test_a_file_system_without_hard_links_still_gets_the_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where hard links are not supported, the key file is put in place with an atomic replace."""

    def unsupported(_self: Path, _target: Path | str) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(Path, "hardlink_to", unsupported)
    path = tmp_path / "keys.json"
    created = KeyRing.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyRing.load_or_create(path) == created
    assert [item.name for item in tmp_path.iterdir()] == ["keys.json"]


def test_a_failed_creation_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the key file cannot be put in place, the error names the file and no temporary file remains."""

    def fail(_self: Path, _target: Path | str) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "hardlink_to", fail)
    monkeypatch.setattr(Path, "replace", fail)
    path = tmp_path / "keys.json"
    with pytest.raises(ConfigurationError, match=r"keys\.json: cannot be created \(Read-only file system\)"):
        KeyRing.load_or_create(path)
    assert list(tmp_path.iterdir()) == []


def test_a_key_file_in_an_impossible_folder_is_a_configuration_error(tmp_path: Path) -> None:
    """A key file whose folder cannot be created (a file is in the way) is refused naming the path."""
    (tmp_path / "data").write_text("", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="cannot be created"):
        KeyRing.load_or_create(tmp_path / "data" / "keys.json")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is not UTF-8 JSON"),
        ('{"active": "k1", "keys": [', "is not UTF-8 JSON"),
        (b"\xff\xfe{}", "is not UTF-8 JSON"),
        ("[]", '\\$: expected an object with exactly "active" and "keys"'),
        ('{"active": "k1"}', '\\$: expected an object with exactly "active" and "keys"'),
        ('{"active": "k1", "keys": {}}', r"\$\.keys: expected a list"),
        ('{"active": "k1", "keys": [[]]}', r"\$\.keys\[0\]: expected an object"),
        ('{"active": "k1", "keys": [{"key_id": "k1"}]}', r"\$\.keys\[0\]: expected an object"),
        ('{"active": "k1", "keys": [{"key_id": "k1", "secret": 7}]}', r"\$\.keys\[0\]\.secret: expected a"),
        (
            '{"active": "k1", "keys": [{"key_id": "k1", "secret": "a+b/"}]}',
            r"\$\.keys\[0\]: the secret is not",
        ),
        (f'{{"active": "k1", "keys": [{{"key_id": "k1", "secret": "{SHORT_SECRET}"}}]}}', "has 24 bytes"),
        (f'{{"active": "k1", "keys": [{{"key_id": "k 1", "secret": "{b64(SECRET_1)}"}}]}}', "'k 1' is not"),
        (
            f'{{"active": 1, "keys": [{{"key_id": "k1", "secret": "{b64(SECRET_1)}"}}]}}',
            r"\$\.active: expected",
        ),
        (
            f'{{"active": "k2", "keys": [{{"key_id": "k1", "secret": "{b64(SECRET_1)}"}}]}}',
            "'k2' is not one of",
        ),
        ('{"active": "k1", "keys": []}', "at least one signing key"),
    ],
    ids=[
        "empty",
        "truncated",
        "not-utf8",
        "array",
        "no-keys-field",
        "keys-not-a-list",
        "key-not-an-object",
        "key-without-secret",
        "secret-not-text",
        "secret-standard-base64",
        "short-secret",
        "bad-key-id",
        "active-not-text",
        "active-not-held",
        "empty-key-list",
    ],
)
def test_corrupt_key_files_are_configuration_errors(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    """A key file that is not a valid key ring is refused naming the file and the problem, never a secret."""
    path = tmp_path / "keys.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message) as caught:
        KeyRing.load_or_create(path)
    assert str(path) in str(caught.value)
    assert SHORT_SECRET not in str(caught.value)
    assert path.read_bytes() == (content if isinstance(content, bytes) else content.encode())


def test_an_unreadable_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    """A key file path that cannot be read (here a folder) is refused naming the path."""
    (tmp_path / "keys.json").mkdir()
    with pytest.raises(ConfigurationError, match=r"keys\.json: cannot be read"):
        KeyRing.load_or_create(tmp_path / "keys.json")
