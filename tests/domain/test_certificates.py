"""Signed erasure certificates: offline verification, tamper resistance, canonical JSON and the key ring."""

from __future__ import annotations

import base64
import copy
import json
import random
import stat
import string
import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tradein_sdk._domain.erasure import (
    CERTIFICATE_PURPOSE,
    CertificateStatus,
    IssuedCertificate,
    RevocationList,
    issue_certificate,
    parse_erasure_report,
    sign_revocations,
    verify_certificate,
)
from tradein_sdk._domain.signing import (
    PrivateKey,
    PublicKeys,
    SigningKeys,
    sign_document,
    verify_document,
)
from tradein_sdk._errors import ConfigurationError, DocumentInvalidError, SignatureInvalidError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
KEY_1 = PrivateKey(kid="e1", d=bytes(range(32)))
KEY_2 = PrivateKey(kid="e2", d=bytes(range(100, 132)))
RING = SigningKeys(keys=[KEY_1, KEY_2], active_kid="e1")
JWKS = RING.jwks()
PUBLIC = PublicKeys.from_jwks(JWKS)
ATTACKER = PrivateKey(kid="e1", d=bytes(range(200, 232)))
SALT = bytes(range(16))
CERTIFICATE_ID = "cert_" + "0123456789abcdef" * 2
IMEI = "352099001761481"
SERIAL = "C39XK0AB1234"

REPORT_DOCUMENT: dict[str, Any] = {
    "order_id": "ord_4f2a9c1e7b3d5a60c8e1",
    "device_id": "d1",
    "device": {
        "manufacturer": "Apple",
        "model": "iPhone 13",
        "imei": IMEI,
        "serial_number": SERIAL,
        "media_type": "embedded_flash",
        "capacity_gb": 128,
    },
    "sanitization": {
        "method": "purge",
        "technique": "cryptographic_erase",
        "tool": {"name": "Blancco Mobile Diagnostics & Erasure", "version": "7.2.1"},
        "operator_role": "Erasure technician",
        "site": "Rückkauf-Zentrum Köln",
        "started_at": "2026-11-25T10:00:00Z",
        "ended_at": "2026-11-25T10:12:00Z",
    },
    "verification": {
        "method": "tool_report",
        "result": "passed",
        "verifier_role": "Quality lead",
        "verified_at": "2026-11-25T10:20:00Z",
    },
    "destination": "resale",
    "custody": [
        {
            "step": "received",
            "at": "2026-11-24T09:00:00Z",
            "site": "Rückkauf-Zentrum Köln",
            "role": "Goods-in clerk",
        },
        {
            "step": "transferred",
            "at": "2026-11-25T09:30:00Z",
            "site": "Erasure bay 2",
            "role": "Goods-in clerk",
        },
        {
            "step": "erased",
            "at": "2026-11-25T10:12:00Z",
            "site": "Erasure bay 2",
            "role": "Erasure technician",
        },
    ],
}


def issue(ring: SigningKeys = RING, **report_changes: Any) -> IssuedCertificate:  # noqa: ANN401 - any field
    """The certificate of the sample report (with ``report_changes``), signed by ``ring`` at NOW."""
    document = {**copy.deepcopy(REPORT_DOCUMENT), **report_changes}
    return issue_certificate(
        parse_erasure_report(document),
        issuer="Beispiel Handel GmbH",
        keys=ring,
        now=NOW,
        certificate_id=CERTIFICATE_ID,
        salt=SALT,
    )


ISSUED = issue()
ORIGINAL: dict[str, Any] = ISSUED.to_json()
ORIGINAL_TEXT = json.dumps(ORIGINAL, ensure_ascii=False)


# -- an independent verifier ---------------------------------------------------------------------------


def unb64(text: str) -> bytes:
    """Decode base64url without padding, without the module under test."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def independently_verifies(text: str, jwks: dict[str, Any], purpose: str) -> bool:
    """Verify a signed envelope as its documentation describes, with cryptography and rfc8785 only.

    The signed bytes are the RFC 8785 canonical JSON of {"alg", "kid", "payload", "purpose"}; the key is
    the JWKS entry with the envelope's kid (its ``x`` the raw Ed25519 public key). This parser is the
    standard library's permissive one: the library must be at least as strict.
    """
    envelope = json.loads(text)
    header = envelope["signature"]
    if header["alg"] != "EdDSA" or header["purpose"] != purpose:
        return False
    jwk = next((key for key in jwks["keys"] if key["kid"] == header["kid"]), None)
    if jwk is None or jwk["kty"] != "OKP" or jwk["crv"] != "Ed25519":
        return False
    public_key = Ed25519PublicKey.from_public_bytes(unb64(jwk["x"]))
    signed = rfc8785.dumps(
        {
            "alg": header["alg"],
            "kid": header["kid"],
            "payload": envelope["payload"],
            "purpose": header["purpose"],
        }
    )
    try:
        public_key.verify(unb64(header["value"]), signed)
    except InvalidSignature:
        return False
    return True


def test_the_certificate_verifies_with_an_independent_implementation() -> None:
    """Only cryptography and rfc8785, following the documented format and the JWKS, accept the certificate."""
    assert independently_verifies(ORIGINAL_TEXT, JWKS, CERTIFICATE_PURPOSE)
    assert not independently_verifies(ORIGINAL_TEXT, JWKS, "erasure-revocations")
    changed = copy.deepcopy(ORIGINAL)
    changed["payload"]["destination"] = "parts"
    assert not independently_verifies(json.dumps(changed), JWKS, CERTIFICATE_PURPOSE)


def test_the_library_verifies_the_certificate() -> None:
    """The library finds the issued certificate valid, names its key, and reads back what was signed."""
    for document in (ORIGINAL, ORIGINAL_TEXT, ORIGINAL_TEXT.encode("utf-8")):
        check = verify_certificate(document, JWKS)
        assert check.status is CertificateStatus.VALID
        assert check.ok
        assert check.kid == "e1"
        assert check.require() == ISSUED.certificate
        assert check.problems == ()


def test_the_envelope_follows_the_documented_format() -> None:
    """The payload is the certificate JSON; the signature holds alg EdDSA, kid, purpose and a value."""
    assert set(ORIGINAL) == {"payload", "signature"}
    assert ORIGINAL["payload"] == ISSUED.certificate.to_json()
    signature = ORIGINAL["signature"]
    assert set(signature) == {"alg", "kid", "purpose", "value"}
    assert (signature["alg"], signature["kid"], signature["purpose"]) == (
        "EdDSA",
        "e1",
        "erasure-certificate",
    )
    assert len(signature["value"]) == 86
    assert "=" not in signature["value"]
    assert len(unb64(signature["value"])) == 64
    for jwk in JWKS["keys"]:
        assert set(jwk) == {"kty", "crv", "kid", "x", "use"}
        assert (jwk["kty"], jwk["crv"], jwk["use"]) == ("OKP", "Ed25519", "sig")
        assert "d" not in jwk


# -- canonical JSON: spellings that keep the content verify ------------------------------------------------


def shuffled(node: Any, rng: random.Random) -> Any:  # noqa: ANN401 - any JSON value
    """The same JSON value with every object's keys in a random order."""
    if isinstance(node, dict):
        keys = list(node)
        rng.shuffle(keys)
        return {key: shuffled(node[key], rng) for key in keys}
    if isinstance(node, list):
        return [shuffled(item, rng) for item in node]
    return node


def test_reordered_keys_and_other_spellings_of_the_same_content_still_verify() -> None:
    r"""Key order, white space between tokens and \u escapes of the same characters are not content."""
    rng = random.Random(8785)  # noqa: S311 - reproducible spellings, nothing secret
    for _ in range(50):
        spelled = shuffled(ORIGINAL, rng)
        assert list(spelled["payload"]) != list(ORIGINAL["payload"]) or list(spelled) != list(ORIGINAL)
        text = json.dumps(
            spelled,
            ensure_ascii=rng.choice([True, False]),
            indent=rng.choice([None, 0, 2, "\t"]),
            separators=rng.choice([(",", ":"), (", ", ": "), (" ,\n", " :  ")]),
        )
        assert verify_certificate(text, JWKS).ok
        assert verify_certificate(json.loads(text), JWKS).ok
        assert independently_verifies(text, JWKS, CERTIFICATE_PURPOSE)
    escaped = ORIGINAL_TEXT.replace('"Quality lead"', '"\\u0051uality \\u006cead"')
    assert escaped != ORIGINAL_TEXT
    assert verify_certificate(escaped, JWKS).ok


def test_the_library_refuses_what_a_permissive_verifier_would_accept() -> None:
    """RFC 8785 writes 128.0 as 128 and json.loads keeps the last of two duplicate keys; both are refused."""
    as_float = ORIGINAL_TEXT.replace('"capacity_gb": 128', '"capacity_gb": 128.0')
    duplicated = ORIGINAL_TEXT.replace('"issuer": ', '"issuer": "Fälscher GmbH", "issuer": ', 1)
    for text in (as_float, duplicated):
        assert text != ORIGINAL_TEXT
        assert independently_verifies(text, JWKS, CERTIFICATE_PURPOSE)  # the naive reading says "valid"
        check = verify_certificate(text, JWKS)
        assert check.status is CertificateStatus.INVALID
        assert check.reason == "malformed"


# -- ten thousand mutations ------------------------------------------------------------------------------


HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "i": "і", "1": "١", "A": "Α", "E": "Ε"}


def paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:  # noqa: ANN401
    """Every path in a JSON value (the root included), as key and index tuples."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


def get(node: Any, path: tuple[str | int, ...]) -> Any:  # noqa: ANN401 - any JSON value
    """The value at ``path``."""
    for part in path:
        node = node[part]
    return node


def put(node: Any, path: tuple[str | int, ...], value: Any) -> Any:  # noqa: ANN401 - any JSON value
    """Return a copy of ``node`` with ``value`` at ``path`` (``path`` empty: ``value`` itself)."""
    if not path:
        return value
    result = copy.deepcopy(node)
    parent = get(result, path[:-1])
    parent[path[-1]] = value
    return result


ALPHABET = string.ascii_letters + string.digits + string.punctuation + " äöüßéñ€漢字\u00a0\u200b\t"


def string_variants(text: str, rng: random.Random) -> list[Any]:
    """Values that differ from the string ``text``: its characters, case, white space, type."""
    at = rng.randrange(len(text) + 1)
    char = rng.choice(ALPHABET)
    variants: list[Any] = [
        text[:at] + char + text[at:],  # a character inserted anywhere
        text[:at] + char + text[at + 1 :],  # or replacing one
        text[:at] + text[at + 1 :],  # one removed
        text[:at] + rng.choice([" ", "  ", "\t", "\n", "\u2009"]) + text[at:],
        rng.choice([text + " ", " " + text, "", text * 2]),
        rng.choice([text.swapcase(), text.upper(), text.lower(), text.title()]),
        unicodedata.normalize("NFD", text),
        "".join(HOMOGLYPHS.get(c, c) if rng.random() < 0.5 else c for c in text),
        rng.choice(
            [None, True, False, 0, rng.randint(-(10**6), 10**6), rng.random(), [text], {"value": text}]
        ),
    ]
    if text.isdigit():
        variants += [int(text), float(text)]
    return variants


def integer_variants(number: int, rng: random.Random) -> list[Any]:
    """Values that differ from the integer ``number`` in value, number form or type."""
    return [
        number + rng.choice([-1, 1]) * rng.randint(1, 10**6),
        rng.choice([-number, number * 10, 0]),
        float(number) + rng.choice([0, 0.5]),
        rng.choice([str(number), f"{number}.0", f" {number}"]),
        rng.choice([bool(number), None, [number], {"value": number}]),
    ]


def value_variants(value: Any, rng: random.Random) -> list[Any]:  # noqa: ANN401 - any JSON value
    """Values that differ from ``value``."""
    if isinstance(value, str):
        return string_variants(value, rng)
    if isinstance(value, bool):
        return [not value, int(value), str(value).lower(), None]
    if isinstance(value, int):
        return integer_variants(value, rng)
    if isinstance(value, list):
        variants: list[Any] = [value[:-1], [*value, value[-1]] if value else [None], {}, None]
        if len(value) > 1:
            variants += [value[::-1], value[1:]]
        return variants
    if isinstance(value, dict):
        variants = [{}, [], None]
        if value:
            removed = rng.choice(list(value))
            variants.append({key: item for key, item in value.items() if key != removed})
            variants.append({**value, removed.upper(): value[removed]})
        variants += [{**value, "extra": "x"}, {**value, "note": None}, {**value, "n": 1}]
        return variants
    return ["", 0, False, "null"]


def canonical(value: Any) -> str:  # noqa: ANN401 - any JSON value
    """A type-exact rendering of a JSON value: 1, 1.0, true and "1" all differ."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def mutate_value(rng: random.Random) -> tuple[str, Any]:
    """Change, retype, add or remove one value anywhere in the envelope."""
    path = rng.choice(paths(ORIGINAL))
    value = rng.choice(value_variants(get(ORIGINAL, path), rng))
    mutant = put(ORIGINAL, path, value)
    return ("signature" if path[:1] == ("signature",) else "payload" if path else "root"), mutant


def mutate_signature_value(rng: random.Random) -> tuple[str, Any]:
    """Flip bits of the signature, or respell it (case, length, padding, spare bits)."""
    value: str = ORIGINAL["signature"]["value"]
    raw = bytearray(unb64(value))
    choice = rng.randrange(5)
    if choice == 0:
        raw[rng.randrange(64)] ^= 1 << rng.randrange(8)
        new = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    elif choice == 1:
        at = rng.choice([index for index, char in enumerate(value) if char.isalpha()])
        new = value[:at] + value[at].swapcase() + value[at + 1 :]
    elif choice == 2:
        new = value + "=="
    elif choice == 3:  # the same 64 bytes, but a spare bit of the last character set: not canonical
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        last = alphabet.index(value[-1])
        new = value[:-1] + alphabet[last ^ rng.choice([1, 2, 4, 8])]
    else:
        new = value[: rng.randrange(86)]
    return "signature_value", put(ORIGINAL, ("signature", "value"), new)


def mutate_kid(rng: random.Random) -> tuple[str, Any]:
    """Name another published key, an unknown one, or the same one respelled."""
    kid = rng.choice(
        [
            "e2",
            "E1",
            "e1 ",
            "",
            "e" * 33,
            "".join(
                rng.choice(string.ascii_letters + string.digits + "_-") for _ in range(rng.randint(1, 32))
            ),
        ]
    )
    return ("kid_other" if kid == "e2" else "kid"), put(ORIGINAL, ("signature", "kid"), kid)


def mutate_purpose(rng: random.Random) -> tuple[str, Any]:
    """Claim another purpose than the one signed."""
    purpose = rng.choice(
        [
            "erasure-revocations",
            "Erasure-certificate",
            "erasure-certificate ",
            "",
            "".join(rng.choice(string.ascii_lowercase + "-.") for _ in range(rng.randint(1, 40))),
        ]
    )
    return "purpose", put(ORIGINAL, ("signature", "purpose"), purpose)


def mutate_forged(rng: random.Random) -> tuple[str, Any]:
    """Change the content and sign it with an attacker's key under the published kid."""
    payload = copy.deepcopy(ORIGINAL["payload"])
    payload["device"]["capacity_gb"] = rng.randint(1, 2048)
    payload["destination"] = rng.choice(["resale", "parts", "recycling"])
    forged = sign_document(
        payload, SigningKeys(keys=[ATTACKER], active_kid="e1"), purpose=CERTIFICATE_PURPOSE
    )
    return "forged", forged


def raw_number_forms(rng: random.Random) -> tuple[str, Any]:
    """Write a signed integer in another number form in the raw text: 128.0, 1.28e2, "128", 0128."""
    field, number = rng.choice([("capacity_gb", 128), ("iterations", 100000), ("version", 1)])
    zeros = "0" * rng.randint(1, 20)
    digits = str(number)
    form = rng.choice(
        [
            f"{number}.{zeros}",
            f"{number}e{rng.choice(['', '+', '-'])}{zeros}",
            f"{number}E{zeros}",
            f"{digits[0]}.{digits[1:] or '0'}e{len(digits) - 1}",
            f"{number}{zeros}e-{len(zeros)}",
            f"{zeros}{number}",
            f'"{number}"',
            f'"{number}.{zeros}"',
        ]
    )
    text = ORIGINAL_TEXT.replace(f'"{field}": {number}', f'"{field}": {form}', 1)
    return ("number_as_string" if form.startswith('"') else "number_form"), text


def raw_duplicate_key(rng: random.Random) -> tuple[str, Any]:
    """Repeat a member of some object in the raw text, before or after the original one."""
    path = rng.choice([path for path in paths(ORIGINAL) if path and isinstance(path[-1], str)])
    key = path[-1]
    value = get(ORIGINAL, path)
    other = rng.choice(value_variants(value, rng))
    member = f"{json.dumps(key)}: {json.dumps(other, ensure_ascii=False)}"
    original_member = f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}"
    if original_member not in ORIGINAL_TEXT:
        original_member = f"{json.dumps(key)}: "
        return "duplicate_key", ORIGINAL_TEXT.replace(original_member, f"{member}, {original_member}", 1)
    position = rng.choice(["before", "after"])
    replacement = f"{member}, {original_member}" if position == "before" else f"{original_member}, {member}"
    return "duplicate_key", ORIGINAL_TEXT.replace(original_member, replacement, 1)


def payload_strings(*, keys: bool = False) -> list[str]:
    """The non-empty strings of the payload (and its keys), each first written inside the payload."""
    payload = ORIGINAL["payload"]
    found = {value for path in paths(payload) if isinstance(value := get(payload, path), str) and value}
    if keys:
        found |= {key for path in paths(payload) if path and isinstance(key := path[-1], str)}
    return sorted(found)


def raw_unicode_escape(rng: random.Random) -> tuple[str, Any]:
    r"""Respell a letter of a payload string as a \u escape of a look-alike or decomposed character."""
    texts = payload_strings()
    candidates = [text for text in texts if any(char in HOMOGLYPHS or char in "öüÖÜ" for char in text)]
    text = rng.choice(candidates)
    at = rng.choice([index for index, char in enumerate(text) if char in HOMOGLYPHS or char in "öüÖÜ"])
    char = text[at]
    if char in HOMOGLYPHS:
        escape = f"\\u{ord(HOMOGLYPHS[char]):04x}"
    else:
        escape = "".join(f"\\u{ord(part):04x}" for part in unicodedata.normalize("NFD", char))
    spelled = json.dumps(text, ensure_ascii=False)[1:-1]
    changed = (
        json.dumps(text[:at], ensure_ascii=False)[1:-1]
        + escape
        + json.dumps(text[at + 1 :], ensure_ascii=False)[1:-1]
    )
    return "unicode_escape", ORIGINAL_TEXT.replace(f'"{spelled}"', f'"{changed}"', 1)


def raw_whitespace_in_string(rng: random.Random) -> tuple[str, Any]:
    """Put white space inside a string (a key or a value) of the payload in the raw text."""
    texts = payload_strings(keys=True)
    text = rng.choice(texts)
    at = rng.randrange(len(text) + 1)
    space = rng.choice([" ", "\\t", "\\n", "\\u00a0", "\\u2009", "  "])
    spelled = json.dumps(text, ensure_ascii=False)[1:-1]
    changed = (
        json.dumps(text[:at], ensure_ascii=False)[1:-1]
        + space
        + json.dumps(text[at:], ensure_ascii=False)[1:-1]
    )
    return "whitespace_in_string", ORIGINAL_TEXT.replace(f'"{spelled}"', f'"{changed}"', 1)


def raw_hash_case(rng: random.Random) -> tuple[str, Any]:
    """Change the case of letters in a digest, a salt or the signature."""
    targets = [
        ("payload", "device", "identifiers", 0, "digest"),
        ("payload", "device", "identifiers", 1, "digest"),
        ("payload", "device", "identifiers", 0, "salt"),
        ("payload", "id"),
        ("signature", "value"),
    ]
    path = rng.choice(targets)
    value: str = get(ORIGINAL, path)
    if rng.random() < 0.5:
        changed = value.upper() if value != value.upper() else value.lower()
    else:
        at = rng.choice([index for index, char in enumerate(value) if char.isalpha()])
        changed = value[:at] + value[at].swapcase() + value[at + 1 :]
    return "hash_case", ORIGINAL_TEXT.replace(json.dumps(value), json.dumps(changed), 1)


MUTATORS: list[tuple[Callable[[random.Random], tuple[str, Any]], int]] = [
    (mutate_value, 40),
    (mutate_signature_value, 8),
    (mutate_kid, 6),
    (mutate_purpose, 4),
    (mutate_forged, 4),
    (raw_number_forms, 8),
    (raw_duplicate_key, 10),
    (raw_unicode_escape, 6),
    (raw_whitespace_in_string, 8),
    (raw_hash_case, 6),
]

EXPECTED_REASONS = {
    "payload": {"bad_signature", "malformed"},  # malformed: a float, or a payload that is no longer an object
    "signature": {"malformed", "wrong_purpose", "unknown_kid", "bad_signature"},
    "root": {"malformed"},
    "signature_value": {"malformed", "bad_signature"},
    "kid": {"malformed", "unknown_kid"},
    "kid_other": {"bad_signature"},
    "purpose": {"wrong_purpose"},
    "forged": {"bad_signature"},
    "number_form": {"malformed"},  # 128.0, 1.28e2, 0128: not an integer, or not JSON
    "number_as_string": {"bad_signature"},
    "duplicate_key": {"malformed"},
    "unicode_escape": {"bad_signature"},
    "whitespace_in_string": {"bad_signature"},
    "hash_case": {"bad_signature", "malformed"},
}


def mutants(count: int, seed: int) -> list[tuple[str, Any]]:
    """``count`` distinct mutated certificates (dicts or JSON texts), deterministically from ``seed``."""
    rng = random.Random(seed)  # noqa: S311 - reproducible mutations, nothing secret
    functions = [function for function, weight in MUTATORS for _ in range(weight)]
    seen = {canonical(ORIGINAL), ORIGINAL_TEXT}
    found: list[tuple[str, Any]] = []
    attempts = 0
    while len(found) < count:
        attempts += 1
        assert attempts < count * 20, "the mutators keep producing the original"
        kind, mutant = rng.choice(functions)(rng)
        if isinstance(mutant, str):
            if mutant in seen:
                continue
            seen.add(mutant)
        else:
            key = canonical(mutant)
            if key in seen:
                continue
            seen.add(key)
            if rng.random() < 0.3:  # some dict mutants travel as text too
                mutant = json.dumps(mutant, ensure_ascii=rng.random() < 0.5)
        found.append((kind, mutant))
    return found


def test_ten_thousand_mutated_certificates_none_verifies() -> None:
    """0 of 10,000 mutations (fields, types, keys, signature, kid, purpose, raw-text tricks) verify."""
    reasons: Counter[tuple[str, str | None]] = Counter()
    verified = []
    for kind, mutant in mutants(10_000, seed=20261125):
        check = verify_certificate(mutant, PUBLIC)
        if check.status is not CertificateStatus.INVALID:
            verified.append((kind, mutant))
            continue
        assert check.certificate is None or check.reason == "content"
        assert check.reason in EXPECTED_REASONS[kind] | {"content"}, (kind, check.reason, mutant)
        reasons[kind, check.reason] += 1
    assert verified == []
    kinds = {kind for kind, _ in reasons}
    assert kinds == set(EXPECTED_REASONS)
    for reason in ("malformed", "wrong_purpose", "unknown_kid", "bad_signature"):
        assert any(found == reason for _, found in reasons), reason


def test_the_mutants_are_deterministic() -> None:
    """The same seed gives the same mutants, so a failure can be replayed."""
    assert mutants(200, seed=7) == mutants(200, seed=7)
    assert mutants(200, seed=7) != mutants(200, seed=8)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: put(d, ("payload", "destination"), "parts"), "bad_signature"),
        (lambda d: put(d, ("signature", "kid"), "e9"), "unknown_kid"),
        (lambda d: put(d, ("signature", "purpose"), "erasure-revocations"), "wrong_purpose"),
        (lambda d: put(d, ("payload", "device", "capacity_gb"), 128.0), "malformed"),
        (lambda d: put(d, ("signature", "alg"), "HS256"), "malformed"),
        (lambda d: {**d, "extra": 1}, "malformed"),
    ],
    ids=["content", "unknown-kid", "wrong-purpose", "float", "algorithm", "extra-member"],
)
def test_each_refusal_names_its_reason(mutate: Callable[[dict[str, Any]], Any], reason: str) -> None:
    """A refused certificate says why, and require() raises SignatureInvalidError with that reason."""
    check = verify_certificate(mutate(copy.deepcopy(ORIGINAL)), JWKS)
    assert check.status is CertificateStatus.INVALID
    assert check.reason == reason
    assert check.problems[0].path == "$.signature"
    with pytest.raises(SignatureInvalidError) as caught:
        check.require()
    assert caught.value.code == "signature_invalid"
    assert caught.value.reason == reason
    assert reason.replace("_", " ") in str(caught.value)


def test_a_revocation_list_is_not_a_certificate() -> None:
    """A document signed for another purpose cannot be replayed as a certificate."""
    revocations = sign_revocations(RevocationList(issuer="Beispiel Handel GmbH", issued_at=NOW), RING)
    check = verify_certificate(revocations, JWKS)
    assert check.reason == "wrong_purpose"
    with pytest.raises(SignatureInvalidError, match="wrong purpose"):
        verify_document(ORIGINAL, JWKS, purpose="erasure-revocations")


def test_a_signed_document_that_is_not_a_certificate_is_invalid_content() -> None:
    """Signed by the shop but not a certificate: the signature holds, the content does not."""
    payload = copy.deepcopy(ORIGINAL["payload"])
    payload["verification"]["verified_at"] = "2026-11-25T09:00:00Z"  # before the erasure ended
    del payload["standards"]
    check = verify_certificate(sign_document(payload, RING, purpose=CERTIFICATE_PURPOSE), JWKS)
    assert check.status is CertificateStatus.INVALID
    assert check.reason == "content"
    assert [problem.path for problem in check.problems] == ["$.payload"]
    with pytest.raises(DocumentInvalidError, match="standards"):
        check.require()
    payload["standards"] = list(ORIGINAL["payload"]["standards"])
    check = verify_certificate(sign_document(payload, RING, purpose=CERTIFICATE_PURPOSE), JWKS)
    assert [problem.path for problem in check.problems] == ["$.payload.verification.verified_at"]


# -- signing rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"amount": 12.5}, "$.amount"),
        ({"nested": [1, {"ratio": 0.5}]}, "$.nested[1].ratio"),
        ({"big": 2**53}, "$.big"),
        ({"when": NOW}, "$.when"),
        ({"set": {1, 2}}, "$.set"),
        ({"bad": "\ud800"}, "$.bad"),
        ({1: "x"}, "$"),
    ],
    ids=["float", "nested-float", "unsafe-integer", "datetime", "set", "lone-surrogate", "integer-key"],
)
def test_payloads_that_are_not_exact_json_are_refused_when_signing(payload: Any, path: str) -> None:  # noqa: ANN401
    """Floats, unsafe integers and non-JSON values are refused with their JSON path; nothing is signed."""
    with pytest.raises(DocumentInvalidError) as caught:
        sign_document(payload, RING, purpose="test")
    assert caught.value.kind == "signed-payload"
    assert [problem.path for problem in caught.value.problems] == [path]


def test_a_purpose_must_be_a_plain_name() -> None:
    """Purposes are lower-case names; anything else is a programming error."""
    with pytest.raises(ValueError, match="purpose"):
        sign_document({}, RING, purpose="Erasure Certificate")
    with pytest.raises(ValueError, match="purpose"):
        verify_document(ORIGINAL, JWKS, purpose="")


def test_sign_and_verify_round_trip_any_exact_json() -> None:
    """What is signed comes back unchanged, tuples as lists, enums as their text."""
    payload = {"list": (1, "two", None, True), "nested": {"ü": ["", {}]}, "min": -(2**53 - 1)}
    envelope = sign_document(payload, RING, purpose="test")
    assert verify_document(json.dumps(envelope), JWKS, purpose="test") == {
        "list": [1, "two", None, True],
        "nested": {"ü": ["", {}]},
        "min": -(2**53 - 1),
    }


@pytest.mark.parametrize(
    "text",
    ["", "[", "null", "[]", '{"payload": {}, "signature": {}}', "\ufeff{}", '{"a": NaN}', "1" * 1_000_001],
    ids=["empty", "truncated", "null", "list", "empty-signature", "bom", "nan", "too-long"],
)
def test_texts_that_are_not_envelopes_are_malformed(text: str) -> None:
    """Whatever the text, a non-envelope is refused as malformed, never with a raw exception."""
    with pytest.raises(SignatureInvalidError) as caught:
        verify_document(text, JWKS, purpose=CERTIFICATE_PURPOSE)
    assert caught.value.reason == "malformed"
    assert verify_certificate(text, JWKS).reason == "malformed"


def test_bytes_that_are_not_utf8_are_malformed() -> None:
    """Bytes are read as UTF-8 only."""
    with pytest.raises(SignatureInvalidError, match="UTF-8"):
        verify_document(ORIGINAL_TEXT.encode("utf-16"), JWKS, purpose=CERTIFICATE_PURPOSE)


# -- published keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jwks", "path"),
    [
        ({}, "$.keys"),
        ({"keys": ["x"]}, "$.keys[0]"),
        ({"keys": [{"kty": "RSA", "kid": "e1"}]}, "$.keys[0]"),
        ({"keys": [{**JWKS["keys"][0], "x": JWKS["keys"][0]["x"][:-1]}]}, "$.keys[0].x"),
        ({"keys": [{**JWKS["keys"][0], "kid": "e 1"}]}, "$.keys[0].kid"),
        ({"keys": [{**JWKS["keys"][0], "use": "enc"}]}, "$.keys[0].use"),
        ({"keys": [KEY_1.to_jwk()]}, "$.keys[0].d"),
        ({"keys": [JWKS["keys"][0], JWKS["keys"][0]]}, "$.keys[1].kid"),
    ],
    ids=["no-keys", "not-object", "not-ed25519", "short-x", "bad-kid", "not-for-signing", "private", "twice"],
)
def test_a_malformed_jwks_names_the_problem(jwks: dict[str, Any], path: str) -> None:
    """A JWKS that is not a set of Ed25519 public signing keys is refused with the JSON path."""
    with pytest.raises(DocumentInvalidError) as caught:
        verify_certificate(ORIGINAL, jwks)
    assert caught.value.kind == "jwks"
    assert path in [problem.path for problem in caught.value.problems]


def test_jwks_members_it_does_not_know_are_ignored() -> None:
    """Extra JWK members (alg, key_ops) do not stop verification, as RFC 7517 asks; text works too."""
    jwks = {"keys": [{**key, "alg": "EdDSA", "key_ops": ["verify"]} for key in JWKS["keys"]]}
    assert verify_certificate(ORIGINAL, jwks).ok
    assert verify_certificate(ORIGINAL, json.dumps(jwks)).ok
    with pytest.raises(DocumentInvalidError):
        PublicKeys.from_jwks("{")


# -- the key ring --------------------------------------------------------------------------------------


def test_rotation_keeps_old_certificates_valid_until_their_key_is_dropped() -> None:
    """A new key signs; the old one stays published (even retired); once dropped, it is an unknown kid."""
    ring = SigningKeys(keys=[KEY_1], active_kid="e1")
    old = issue(ring).to_json()
    ring = ring.with_key(KEY_2)
    new = issue(ring).to_json()
    assert new["signature"]["kid"] == "e2"
    assert verify_certificate(old, ring.jwks()).ok
    assert verify_certificate(new, ring.jwks()).ok
    retired = ring.retire("e1")
    assert [key.kid for key in retired.keys] == ["e2"]
    assert [key["kid"] for key in retired.jwks()["keys"]] == ["e2", "e1"]
    assert verify_certificate(old, retired.jwks()).ok
    for dropped in (ring.without_key("e1"), retired.without_key("e1")):
        check = verify_certificate(old, dropped.jwks())
        assert check.reason == "unknown_kid"
        assert "unknown kid" in check.problems[0].message
        assert verify_certificate(new, dropped.jwks()).ok


def test_a_key_can_be_published_before_it_signs() -> None:
    """with_key(active=False) publishes the key; the old key goes on signing."""
    ring = SigningKeys(keys=[KEY_1], active_kid="e1").with_key(KEY_2, active=False)
    assert ring.active_key == KEY_1
    assert [key["kid"] for key in ring.jwks()["keys"]] == ["e1", "e2"]
    assert ring.with_new_key("e3").active_kid == "e3"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: SigningKeys(keys=[], active_kid="e1"), "at least one"),
        (lambda: SigningKeys(keys=[KEY_1, KEY_1], active_kid="e1"), "twice"),
        (lambda: SigningKeys(keys=[KEY_1], active_kid="e2"), "not one of"),
        (lambda: RING.retire("e1"), "active key"),
        (lambda: RING.without_key("e9"), "no private key"),
        (lambda: PrivateKey(kid="e/1", d=bytes(32)), "1-32 characters"),
        (lambda: PrivateKey(kid="e1", d=bytes(31)), "32 bytes"),
        (lambda: SigningKeys(keys=[KEY_1], active_kid="e1", retired=[KEY_1.public_key]), "twice"),
    ],
    ids=[
        "empty",
        "duplicate",
        "active-not-held",
        "retire-active",
        "drop-absent",
        "bad-kid",
        "short-key",
        "retired-twice",
    ],
)
def test_bad_rings_are_configuration_errors(build: Callable[[], object], message: str) -> None:
    """Rings that cannot work are refused with a ConfigurationError saying why."""
    with pytest.raises(ConfigurationError, match=message):
        build()


def test_private_keys_are_never_shown() -> None:
    """A repr never shows a private key, and the published JWKS holds no private part."""
    assert bytes(range(32)).hex() not in repr(RING)
    assert KEY_1.to_jwk()["d"] not in repr(RING)
    assert KEY_1.to_jwk()["d"] not in json.dumps(RING.jwks())


def test_generated_keys_differ_and_match_cryptography() -> None:
    """Fresh keys are random; their JWK x is the Ed25519 public key of d."""
    first, second = SigningKeys.generate(), SigningKeys.generate(kid="other")
    assert first.active_key.d != second.active_key.d
    jwk = first.active_key.to_jwk()
    public = Ed25519PrivateKey.from_private_bytes(unb64(jwk["d"])).public_key()
    public.verify(first.active_key.sign(b"data"), b"data")
    assert PublicKeys.from_jwks(first.jwks()).keys[0].verifies(first.active_key.sign(b"data"), b"data")


def test_the_ring_round_trips_through_a_private_file(tmp_path: Path) -> None:
    """Saving writes mode 0600; load reads the same ring back, retired keys included."""
    ring = RING.with_new_key("e3").retire("e1")
    file = tmp_path / "keys" / "signing.json"
    ring.save(file)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert SigningKeys.load(file) == ring
    assert [path.name for path in file.parent.iterdir()] == ["signing.json"]


def test_configured_creates_the_key_file_once(tmp_path: Path) -> None:
    """Without the environment variable, the file is created on first use (0600) and then reused."""
    file = tmp_path / "signing.json"
    first = SigningKeys.configured(file, environ={})
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert SigningKeys.configured(file, environ={}) == first
    assert first.active_kid == "e1"


def test_configured_prefers_the_environment(tmp_path: Path) -> None:
    """TRADEIN_SIGNING_KEYS holds the ring's JSON document, shared by every instance."""
    environ = {"TRADEIN_SIGNING_KEYS": json.dumps(RING.to_json())}
    assert SigningKeys.configured(tmp_path / "unused.json", environ=environ) == RING
    assert not (tmp_path / "unused.json").exists()
    with pytest.raises(ConfigurationError, match="TRADEIN_SIGNING_KEYS"):
        SigningKeys.configured(tmp_path / "unused.json", environ={"TRADEIN_SIGNING_KEYS": "{"})


def test_a_file_system_without_hard_links_still_gets_the_ring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where hard links fail, the new ring is moved into place instead."""

    def refuse(*_: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr("pathlib.Path.hardlink_to", refuse)
    ring = SigningKeys.load_or_create(tmp_path / "signing.json", kid="k9")
    assert ring.active_kid == "k9"
    assert [path.name for path in tmp_path.iterdir()] == ["signing.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "expected an object"),
        ('{"active": "e1", "keys": {}}', "expected lists"),
        ('{"active": "e1", "keys": [{"kid": "e1"}]}', r"\$.keys\[0\]"),
        ('{"active": 1, "keys": []}', r"\$.active"),
        ('{"active": "e1", "keys": [], "retired": [{"kty": "OKP"}]}', r"\$.retired\[0\]"),
    ],
    ids=["not-json", "not-object", "keys-not-list", "bad-key", "bad-active", "bad-retired"],
)
def test_corrupt_ring_files_are_configuration_errors(tmp_path: Path, content: str, message: str) -> None:
    """A ring file that cannot be read names the file and the JSON path, never a key."""
    file = tmp_path / "signing.json"
    file.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message) as caught:
        SigningKeys.load(file)
    assert str(file) in str(caught.value)


def test_a_ring_whose_public_key_does_not_match_is_refused(tmp_path: Path) -> None:
    """The x member must be the public key of d: a hand-edited file is caught."""
    document = RING.to_json()
    document["keys"][0]["x"] = document["keys"][1]["x"]
    file = tmp_path / "signing.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not the public key of d"):
        SigningKeys.load(file)
    with pytest.raises(ConfigurationError, match="cannot be read"):
        SigningKeys.load(tmp_path / "missing.json")


def test_times_in_the_certificate_are_utc_seconds() -> None:
    """An issue time in any zone, with fractions of a second, is written in UTC to the second."""
    berlin = timezone(timedelta(hours=1))
    issued = issue_certificate(
        parse_erasure_report(copy.deepcopy(REPORT_DOCUMENT)),
        issuer="Beispiel Handel GmbH",
        keys=RING,
        now=datetime(2026, 11, 25, 13, 0, 0, 999_999, tzinfo=berlin),
        salt=SALT,
    )
    assert issued.to_json()["payload"]["issued_at"] == "2026-11-25T12:00:00Z"
    assert issued.certificate.issued_at == NOW
    assert issued.certificate.id != CERTIFICATE_ID
