"""Data erasure: report validation with JSON paths, the lifecycle rules, revocation, rotation and privacy."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradein_sdk._domain.erasure import (
    ERASABLE_STATES,
    CertificateStatus,
    CustodyEvent,
    CustodyStep,
    ErasureCertificate,
    ErasureDestination,
    ErasureReport,
    HashedIdentifier,
    IdentifierKind,
    IssuedCertificate,
    Revocation,
    RevocationList,
    RevocationReason,
    certificate_bundle,
    check_erasure_allowed,
    destination_of,
    erasure_report_problems,
    issue_certificate,
    parse_erasure_report,
    require_certificate_for,
    sign_revocations,
    verify_bundle,
    verify_certificate,
    verify_revocations,
)
from tradein_sdk._domain.orders.vocabulary import DeviceState, Disposition
from tradein_sdk._domain.signing import PrivateKey, SigningKeys, sign_document
from tradein_sdk._errors import (
    CertificateRequiredError,
    CertificateRevokedError,
    DocumentInvalidError,
    ErasureNotAllowedError,
    ErasureUnverifiedError,
    SignatureInvalidError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RECEIVED_AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
RING = SigningKeys(keys=[PrivateKey(kid="e1", d=bytes(range(32)))], active_kid="e1")
JWKS = RING.jwks()
IMEI = "352099001761481"
ISSUER = "Beispiel Handel GmbH"


def report_document(**changes: Any) -> dict[str, Any]:  # noqa: ANN401 - any field
    """A valid erasure report for device d1 of one order, with top-level ``changes``."""
    document: dict[str, Any] = {
        "order_id": "ord_4f2a9c1e7b3d5a60c8e1",
        "device_id": "d1",
        "device": {
            "manufacturer": "Apple",
            "model": "iPhone 13",
            "imei": IMEI,
            "serial_number": "c39xk0-ab1234",
            "media_type": "embedded_flash",
            "capacity_gb": 128,
        },
        "sanitization": {
            "method": "purge",
            "technique": "cryptographic_erase",
            "tool": {"name": "Blancco Mobile", "version": "7.2.1"},
            "operator_role": "Erasure technician",
            "site": "Köln returns centre",
            "started_at": "2026-11-25T11:00:00+01:00",
            "ended_at": "2026-11-25T10:12:00.500Z",
        },
        "verification": {
            "method": "crypto_key_destruction",
            "result": "passed",
            "verifier_role": "Quality lead",
            "verified_at": "2026-11-25T10:20:00Z",
        },
        "destination": "resale",
        "custody": [
            {
                "step": "received",
                "at": "2026-11-24T09:00:00Z",
                "site": "Köln returns centre",
                "role": "Goods-in clerk",
            },
            {
                "step": "erased",
                "at": "2026-11-25T10:12:00Z",
                "site": "Köln returns centre",
                "role": "Erasure technician",
            },
        ],
    }
    document.update(changes)
    return document


def report(**changes: Any) -> ErasureReport:  # noqa: ANN401 - any field
    """The parsed sample report with top-level ``changes``."""
    return parse_erasure_report(report_document(**changes))


def issue(
    erased: ErasureReport | None = None,
    ring: SigningKeys = RING,
    *,
    certificate_id: str | None = None,
    salt: bytes | None = None,
) -> IssuedCertificate:
    """Issue the certificate of ``erased`` (the sample report by default) at NOW."""
    return issue_certificate(
        erased or report(), issuer=ISSUER, keys=ring, now=NOW, certificate_id=certificate_id, salt=salt
    )


def at(document: dict[str, Any], *path: str | int) -> dict[str, Any]:
    """The object at ``path`` inside ``document``."""
    found: Any = document
    for part in path:
        found = found[part]
    result: dict[str, Any] = found
    return result


# -- the report ----------------------------------------------------------------------------------------


def test_a_valid_report_is_read_in_utc_seconds_with_normalised_identifiers() -> None:
    """Times become UTC whole seconds, the serial number is normalised, and the JSON form round-trips."""
    parsed = report()
    assert parsed.sanitization.started_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert parsed.sanitization.ended_at == datetime(2026, 11, 25, 10, 12, tzinfo=UTC)
    assert parsed.device.serial_number == "C39XK0AB1234"
    assert parsed.custody[0] == CustodyEvent(
        step=CustodyStep.RECEIVED, at=RECEIVED_AT, site="Köln returns centre", role="Goods-in clerk"
    )
    assert parse_erasure_report(parsed.to_json()) == parsed
    assert ErasureReport.from_json(parsed.to_json()) == parsed
    assert erasure_report_problems(parsed.to_json()) == []


def mutated(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    """The sample report document after ``change`` altered it in place."""
    document = report_document()
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda d: d.pop("destination"), "$", "'destination' is a required property"),
        (lambda d: at(d, "sanitization").update(method="shred"), "$.sanitization.method", "is not one of"),
        (
            lambda d: at(d, "device").update(capacity_gb="128"),
            "$.device.capacity_gb",
            "not of type 'integer'",
        ),
        (
            lambda d: at(d, "device").pop("imei") and at(d, "device").pop("serial_number"),
            "$.device",
            "not valid",
        ),
        (lambda d: at(d, "custody", 1).update(at="2026-11-25 10:12"), "$.custody[1].at", "does not match"),
        (lambda d: at(d, "sanitization").update(site=" Köln"), "$.sanitization.site", "does not match"),
        (lambda d: at(d, "device").update(imei="352099001761482"), "$.device.imei", "check_digit"),
        (lambda d: at(d, "device").update(serial_number="UNKNOWN"), "$.device.serial_number", "placeholder"),
        (
            lambda d: at(d, "sanitization").update(ended_at="2026-11-25T09:59:00Z"),
            "$.sanitization.ended_at",
            "after",
        ),
        (
            lambda d: at(d, "sanitization").update(technique="factory_reset"),
            "$.sanitization.technique",
            "purge",
        ),
        (
            lambda d: at(d, "sanitization").update(technique="overwrite"),
            "$.sanitization.technique",
            "hard disks",
        ),
        (
            lambda d: at(d, "sanitization").update(technique="block_erase"),
            "$.verification.method",
            "cryptographic",
        ),
        (
            lambda d: at(d, "verification").update(verified_at="2026-11-25T10:11:00Z"),
            "$.verification.verified_at",
            "before",
        ),
        (
            lambda d: at(d, "sanitization").update(started_at="2026-11-24T08:00:00Z"),
            "$.sanitization.started_at",
            "received",
        ),
        (lambda d: at(d, "custody", 0).update(step="transferred"), "$.custody[0]", "starts with received"),
        (lambda d: at(d, "custody", 1).update(at="2026-11-24T08:00:00Z"), "$.custody[1].at", "out of order"),
        (lambda d: at(d, "custody", 1).update(step="transferred"), "$.custody", "exactly one erased"),
        (
            lambda d: at(d, "custody", 1).update(at="2026-11-25T10:11:00Z"),
            "$.custody[1].at",
            "before the sanitization",
        ),
        (
            lambda d: at(d, "verification").update(verified_at="2026-02-30T10:00:00Z"),
            "$.verification.verified_at",
            "date-time",
        ),
    ],
    ids=[
        "missing-field",
        "unknown-method",
        "wrong-type",
        "no-identifier",
        "not-a-timestamp",
        "untrimmed-text",
        "imei-check-digit",
        "serial-placeholder",
        "ends-before-start",
        "technique-not-of-method",
        "overwrite-purges-hard-disks-only",
        "key-destruction-needs-crypto-erase",
        "verified-before-end",
        "started-before-receipt",
        "custody-not-starting-received",
        "custody-out-of-order",
        "no-erased-step",
        "erased-before-end",
        "impossible-date",
    ],
)
def test_report_problems_name_their_json_path(
    change: Callable[[dict[str, Any]], object], path: str, words: str
) -> None:
    """Each broken rule or schema constraint is reported at the JSON path where it is broken."""
    document = mutated(change)
    problems = erasure_report_problems(document)
    assert any(problem.path == path and words in problem.message for problem in problems), problems
    with pytest.raises(DocumentInvalidError) as caught:
        parse_erasure_report(document)
    assert caught.value.code == "document_invalid"
    assert caught.value.kind == "erasure-report"
    assert path in str(caught.value)


def test_several_problems_are_reported_together() -> None:
    """A report breaking several rules lists every one of them, each with its path."""
    document = report_document()
    at(document, "device")["imei"] = "352099001761482"
    at(document, "custody", 1)["at"] = "2026-11-24T08:00:00Z"
    at(document, "sanitization")["technique"] = "physical_destruction"
    paths = {problem.path for problem in erasure_report_problems(document)}
    assert {"$.device.imei", "$.custody[1].at", "$.sanitization.technique"} <= paths


def test_a_report_built_in_code_is_checked_too() -> None:
    """Constructing a report with custody out of order raises the same typed error."""
    parsed = report()
    with pytest.raises(DocumentInvalidError, match=r"\$\.custody\[1\]\.at"):
        ErasureReport(
            order_id=parsed.order_id,
            device_id=parsed.device_id,
            device=parsed.device,
            sanitization=parsed.sanitization,
            verification=parsed.verification,
            destination=parsed.destination,
            custody=(
                parsed.custody[0],
                CustodyEvent(step="erased", at=RECEIVED_AT - timedelta(hours=1), site="x", role="y"),
            ),
        )


def test_disposal_in_the_report_is_for_recycling_only() -> None:
    """A resale device is disposed of after its certificate; a recycled one may be reported disposed."""
    disposed = {
        "step": "disposed",
        "at": "2026-11-25T11:00:00Z",
        "site": "Recycler",
        "role": "Recycling partner",
    }
    custody = [*report_document()["custody"], disposed]
    problems = erasure_report_problems(report_document(custody=custody))
    assert [problem.path for problem in problems] == ["$.custody[2].step"]
    assert report(custody=custody, destination="recycling").custody[-1].step is CustodyStep.DISPOSED
    custody = [custody[0], disposed, custody[1]]
    assert "$.custody[1].step" in {
        p.path for p in erasure_report_problems(report_document(custody=custody, destination="recycling"))
    }


CUSTODY_STEPS = [
    CustodyEvent(step="received", at=RECEIVED_AT, site="Store 12", role="Sales associate"),
    CustodyEvent(step="transferred", at=RECEIVED_AT + timedelta(hours=2), site="Courier", role="Driver"),
    CustodyEvent(
        step="transferred", at=RECEIVED_AT + timedelta(hours=6), site="Returns centre", role="Clerk"
    ),
    CustodyEvent(
        step="erased", at=datetime(2026, 11, 25, 10, 12, tzinfo=UTC), site="Returns centre", role="Technician"
    ),
]


@given(order=st.permutations(range(len(CUSTODY_STEPS))))
@settings(max_examples=60)
def test_custody_out_of_order_is_refused(order: list[int]) -> None:
    """Any order of the custody steps but the true one is refused; the true one is accepted."""
    parsed = report()
    custody = [CUSTODY_STEPS[index] for index in order]

    def build() -> ErasureReport:
        return ErasureReport(
            order_id=parsed.order_id,
            device_id=parsed.device_id,
            device=parsed.device,
            sanitization=parsed.sanitization,
            verification=parsed.verification,
            destination=parsed.destination,
            custody=custody,
        )

    if order == sorted(order):
        assert build().custody == tuple(CUSTODY_STEPS)
    else:
        with pytest.raises(DocumentInvalidError) as caught:
            build()
        assert all(
            problem.path.startswith(("$.custody", "$.sanitization.started_at"))
            for problem in caught.value.problems
        )


# -- lifecycle rules -----------------------------------------------------------------------------------


NOT_ALLOWED = {
    DeviceState.ACCEPTED: "not_received",
    DeviceState.AWAITING_SHIPMENT: "not_received",
    DeviceState.IN_TRANSIT: "not_received",
    DeviceState.EXPIRED: "not_received",
    DeviceState.CANCELLED: "not_received",
    DeviceState.ON_HOLD: "held",
    DeviceState.MISMATCH: "held",
    DeviceState.REVISION_DECLINED: "going_back",
    DeviceState.RETURNING: "going_back",
    DeviceState.RETURNED: "left_custody",
    DeviceState.SURRENDERED: "left_custody",
    DeviceState.RECYCLED: "left_custody",
    DeviceState.DISPOSED: "left_custody",
}


@pytest.mark.parametrize("state", list(DeviceState), ids=[state.value for state in DeviceState])
def test_an_erasure_is_reported_only_while_the_shop_may_wipe_the_device(state: DeviceState) -> None:
    """Before receipt, on hold, going back or gone: refused with a rule; received and kept: allowed."""
    if state in NOT_ALLOWED:
        with pytest.raises(ErasureNotAllowedError) as caught:
            check_erasure_allowed(state.value)
        assert caught.value.code == "erasure_not_allowed"
        assert caught.value.rule == NOT_ALLOWED[state]
        assert caught.value.state == state.value
        assert state.value in str(caught.value)
    else:
        assert state in ERASABLE_STATES
        check_erasure_allowed(state, received_at=RECEIVED_AT, report=report())


def test_no_erasure_is_reported_before_the_device_arrived() -> None:
    """A report whose custody starts before the device's receipt is refused."""
    with pytest.raises(ErasureNotAllowedError) as caught:
        check_erasure_allowed(
            DeviceState.RECEIVED, received_at=RECEIVED_AT + timedelta(minutes=1), report=report()
        )
    assert caught.value.rule == "before_receipt"
    assert "2026-11-24T09:00:00Z" in str(caught.value)
    with pytest.raises(ValueError, match="not a valid DeviceState"):
        check_erasure_allowed("lost")


def test_no_certificate_without_a_passed_verification() -> None:
    """A failed verification is recorded in the report, but no certificate is issued for it."""
    document = report_document()
    at(document, "verification")["result"] = "failed"
    failed = parse_erasure_report(document)
    with pytest.raises(ErasureUnverifiedError) as caught:
        issue(failed)
    assert caught.value.code == "erasure_unverified"
    assert (caught.value.order_id, caught.value.device_id, caught.value.result) == (
        failed.order_id,
        "d1",
        "failed",
    )


def test_no_certificate_dated_before_the_erasure() -> None:
    """The issue time cannot precede a time the report records."""
    with pytest.raises(DocumentInvalidError) as caught:
        issue_certificate(report(), issuer=ISSUER, keys=RING, now=datetime(2026, 11, 25, 10, 15, tzinfo=UTC))
    assert [problem.path for problem in caught.value.problems] == ["$.verification.verified_at"]
    with pytest.raises(DocumentInvalidError, match=r"\$\.issuer"):
        issue_certificate(report(), issuer=" ", keys=RING, now=NOW)
    with pytest.raises(DocumentInvalidError, match=r"\$\.id"):
        issue(certificate_id="cert_1")
    with pytest.raises(ValueError, match="16 bytes"):
        issue(salt=b"short")


@pytest.mark.parametrize("disposition", [Disposition.REFURBISH, Disposition.PARTS, "resale", "parts"])
def test_resale_or_parts_need_a_valid_certificate(disposition: Disposition | str) -> None:
    """Without a certificate, or with a revoked one, no resale or parts; with a valid one, yes."""
    certificate = issue().certificate
    with pytest.raises(CertificateRequiredError) as caught:
        require_certificate_for(disposition, None)
    assert caught.value.code == "certificate_required"
    assert caught.value.reason == "missing"
    assert caught.value.disposition == destination_of(disposition).value
    with pytest.raises(CertificateRequiredError) as caught:
        require_certificate_for(disposition, certificate, revoked=True)
    assert caught.value.reason == "revoked"
    assert certificate.id in str(caught.value)
    require_certificate_for(disposition, certificate, order_id=certificate.order_id, device_id="d1")


@pytest.mark.parametrize("disposition", [Disposition.RECYCLE, "recycling"])
def test_recycling_needs_no_certificate(disposition: Disposition | str) -> None:
    """Recycling is allowed without any certificate."""
    require_certificate_for(disposition, None)
    require_certificate_for(disposition, None, revoked=True)


def test_a_certificate_for_another_device_does_not_do() -> None:
    """The certificate must be for the very device of the very order."""
    certificate = issue().certificate
    with pytest.raises(CertificateRequiredError) as caught:
        require_certificate_for(
            Disposition.REFURBISH, certificate, order_id=certificate.order_id, device_id="d2"
        )
    assert caught.value.reason == "other_device"
    with pytest.raises(CertificateRequiredError, match="is for device d1 of order ord_") as caught:
        require_certificate_for(Disposition.PARTS, certificate, order_id="ord_other", device_id="d1")
    assert caught.value.reason == "other_device"


@pytest.mark.parametrize(
    ("method", "technique", "verification", "resale", "parts"),
    [
        ("purge", "cryptographic_erase", "crypto_key_destruction", True, True),
        ("purge", "block_erase", "full", True, True),
        ("clear", "factory_reset", "tool_report", False, False),
        ("destruct", "physical_destruction", "full", False, True),
    ],
    ids=["crypto-erase", "block-erase", "factory-reset", "destruction"],
)
def test_the_method_must_be_strong_enough_for_the_disposition(
    method: str, technique: str, verification: str, *, resale: bool, parts: bool
) -> None:
    """Resale needs a Purge; parts a Purge or Destruct (NIST SP 800-88: media leaving the organisation)."""
    document = report_document()
    at(document, "sanitization").update(method=method, technique=technique)
    at(document, "verification")["method"] = verification
    certificate = issue(parse_erasure_report(document)).certificate
    for disposition, allowed in ((Disposition.REFURBISH, resale), (Disposition.PARTS, parts)):
        if allowed:
            require_certificate_for(disposition, certificate)
        else:
            with pytest.raises(CertificateRequiredError) as caught:
                require_certificate_for(disposition, certificate)
            assert caught.value.reason == "insufficient_method"
            assert method in str(caught.value)


# -- revocation ------------------------------------------------------------------------------------------


def test_revocation_is_seen_by_verification() -> None:
    """A revoked certificate still verifies its signature but is reported revoked, and cannot be used."""
    issued = issue()
    revocation = Revocation(
        certificate_id=issued.certificate.id, reason="erasure_failed_audit", revoked_at=NOW
    )
    revocations = RevocationList(issuer=ISSUER, issued_at=NOW).with_revocation(
        revocation, now=NOW + timedelta(hours=1)
    )
    signed = sign_revocations(revocations, RING)
    assert verify_revocations(json.dumps(signed), JWKS) == revocations

    check = verify_certificate(issued.to_json(), JWKS, revocations=signed)
    assert check.status is CertificateStatus.REVOKED
    assert not check.ok
    assert check.certificate == issued.certificate
    assert check.revocation == revocation
    assert check.problems[0].path == "$.payload.id"
    with pytest.raises(CertificateRevokedError) as caught:
        check.require()
    assert caught.value.code == "certificate_revoked"
    assert (caught.value.certificate_id, caught.value.reason) == (
        issued.certificate.id,
        "erasure_failed_audit",
    )
    with pytest.raises(CertificateRequiredError) as refused:
        require_certificate_for(Disposition.REFURBISH, check)
    assert refused.value.reason == "revoked"

    other = issue()
    assert verify_certificate(other.to_json(), JWKS, revocations=revocations).ok
    require_certificate_for(
        Disposition.REFURBISH, verify_certificate(other.to_json(), JWKS, revocations=signed)
    )


def test_an_invalid_certificate_check_does_not_allow_resale() -> None:
    """A check that failed (a changed certificate) counts as no valid certificate."""
    document = issue().to_json()
    document["payload"]["destination"] = "parts"
    with pytest.raises(CertificateRequiredError) as caught:
        require_certificate_for(Disposition.PARTS, verify_certificate(document, JWKS))
    assert caught.value.reason == "invalid"


def test_a_tampered_revocation_list_is_refused() -> None:
    """Removing an entry from a signed list breaks its signature; a certificate is not a revocation list."""
    issued = issue()
    revocations = RevocationList(
        issuer=ISSUER,
        issued_at=NOW,
        revocations=[
            Revocation(
                certificate_id=issued.certificate.id, reason=RevocationReason.ISSUED_IN_ERROR, revoked_at=NOW
            )
        ],
    )
    signed = sign_revocations(revocations, RING)
    signed["payload"]["revocations"] = []
    with pytest.raises(SignatureInvalidError) as caught:
        verify_certificate(issued.to_json(), JWKS, revocations=signed)
    assert caught.value.reason == "bad_signature"
    with pytest.raises(SignatureInvalidError) as caught:
        verify_revocations(issued.to_json(), JWKS)
    assert caught.value.reason == "wrong_purpose"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (
            lambda r: r.update(
                revocations=[
                    {"certificate_id": "cert_1", "reason": "superseded", "revoked_at": "2026-11-25T12:00:00Z"}
                ]
            ),
            "$.revocations[0].certificate_id",
        ),
        (lambda r: r.update(issued_at="2026-11-25"), "$.issued_at"),
        (lambda r: r.pop("issuer"), "$"),
    ],
    ids=["bad-id", "bad-time", "no-issuer"],
)
def test_a_signed_revocation_list_of_the_wrong_shape_is_invalid(
    change: Callable[[dict[str, Any]], object], path: str
) -> None:
    """A well-signed list that is not a valid list is a DocumentInvalidError naming the path."""
    payload = RevocationList(issuer=ISSUER, issued_at=NOW).to_json()
    change(payload)
    with pytest.raises(DocumentInvalidError) as caught:
        verify_revocations(sign_document(payload, RING, purpose="erasure-revocations"), JWKS)
    assert caught.value.kind == "erasure-revocations"
    assert path in [problem.path for problem in caught.value.problems]


def test_revocation_list_rules() -> None:
    """A certificate is listed once, not revoked after the list's time; revoking again keeps the first."""
    certificate_id = "cert_" + "a" * 32
    first = Revocation(certificate_id=certificate_id, reason="superseded", revoked_at=NOW)
    listed = RevocationList(issuer=ISSUER, issued_at=NOW, revocations=[first])
    again = Revocation(certificate_id=certificate_id, reason="key_compromise", revoked_at=NOW)
    assert listed.with_revocation(again, now=NOW).revocations == (first,)
    with pytest.raises(DocumentInvalidError, match="listed twice"):
        RevocationList(issuer=ISSUER, issued_at=NOW, revocations=[first, again])
    with pytest.raises(DocumentInvalidError, match="after the list was issued"):
        RevocationList(issuer=ISSUER, issued_at=NOW - timedelta(seconds=1), revocations=[first])
    assert listed.revoked("cert_" + "b" * 32) is None


# -- key rotation ---------------------------------------------------------------------------------------


def test_key_rotation_keeps_old_certificates_verifiable_with_the_published_set() -> None:
    """After rotation the published JWKS verifies old and new certificates; a removed key: unknown kid."""
    old = issue().to_json()
    rotated = RING.with_key(PrivateKey(kid="e2", d=bytes(range(50, 82))))
    new = issue(ring=rotated).to_json()
    assert (old["signature"]["kid"], new["signature"]["kid"]) == ("e1", "e2")
    published = rotated.retire("e1").jwks()
    assert verify_certificate(old, published).ok
    assert verify_certificate(new, published).ok
    without_old = rotated.without_key("e1").jwks()
    check = verify_certificate(old, without_old)
    assert check.status is CertificateStatus.INVALID
    assert check.reason == "unknown_kid"
    assert check.kid == "e1"
    with pytest.raises(SignatureInvalidError, match="unknown kid"):
        check.require()
    assert verify_certificate(new, without_old).ok


# -- identifiers ----------------------------------------------------------------------------------------


def test_identifiers_are_not_in_clear_text() -> None:
    """Neither the IMEI nor the serial number (nor most of either) appears anywhere in the certificate."""
    issued = issue()
    text = issued.to_text()
    for identifier in (IMEI, "C39XK0AB1234"):
        assert identifier not in text
        assert identifier[:-4] not in text
        assert identifier[:8] not in text
    identifiers = issued.to_json()["payload"]["device"]["identifiers"]
    assert [(entry["kind"], entry["last4"]) for entry in identifiers] == [
        ("imei", "1481"),
        ("serial_number", "1234"),
    ]


def test_a_holder_of_the_imei_can_check_the_hash_offline() -> None:
    """With hashlib alone and the documented recipe, the IMEI's holder confirms the certificate is for it."""
    issued = issue()
    entry = issued.to_json()["payload"]["device"]["identifiers"][0]
    salt = base64.urlsafe_b64decode(entry["salt"] + "=" * (-len(entry["salt"]) % 4))
    digest = hashlib.pbkdf2_hmac("sha256", IMEI.encode("ascii"), salt, entry["iterations"]).hex()
    assert digest == entry["digest"]
    other = hashlib.pbkdf2_hmac("sha256", b"490154203237518", salt, entry["iterations"]).hex()
    assert other != entry["digest"]
    assert issued.certificate.identifier_matches("35-209900-176148-1")
    assert issued.certificate.identifier_matches("c39xk0ab1234")
    assert not issued.certificate.identifier_matches("490154203237518")
    assert not issued.certificate.identifier_matches("not an identifier")


def test_each_certificate_has_its_own_salt() -> None:
    """Two certificates of one device do not share hashes, so they cannot be linked by them."""
    first, second = issue().to_json()["payload"], issue().to_json()["payload"]
    assert first["id"] != second["id"]
    assert first["device"]["identifiers"][0]["digest"] != second["device"]["identifiers"][0]["digest"]


def luhn_completed(body: str) -> str:
    """``body`` (14 digits) with its Luhn check digit, computed independently."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return body + str((10 - total % 10) % 10)


@given(
    body=st.text(alphabet="0123456789", min_size=14, max_size=14),
    other=st.text(alphabet="0123456789", min_size=14, max_size=14),
    salt=st.binary(min_size=16, max_size=16),
)
@settings(max_examples=40)
def test_a_hashed_imei_matches_itself_and_no_other(body: str, other: str, salt: bytes) -> None:
    """Any valid IMEI matches its own hash, typed with separators too, and no other IMEI does."""
    imei, different = luhn_completed(body), luhn_completed(other)
    hashed = HashedIdentifier.of(IdentifierKind.IMEI, imei, salt=salt, iterations=10_000)
    assert hashed.last4 == imei[-4:]
    assert imei not in json.dumps(hashed.to_json())
    assert hashed.matches(imei)
    assert hashed.matches(f"{imei[:2]}-{imei[2:8]}-{imei[8:14]}-{imei[14]}")
    assert hashed.matches(different) is (different == imei)


# -- the certificate -------------------------------------------------------------------------------------


def test_the_certificate_carries_the_nist_fields() -> None:
    """Issuer, standards, method, technique, tool, roles, times, site, destination and custody are there."""
    payload = issue(certificate_id="cert_" + "f" * 32).to_json()["payload"]
    assert payload["id"] == "cert_" + "f" * 32
    assert payload["issuer"] == ISSUER
    assert payload["standards"] == ["NIST SP 800-88 Rev. 1", "IEEE 2883-2022"]
    assert payload["device"]["manufacturer"] == "Apple"
    assert payload["device"]["media_type"] == "embedded_flash"
    assert payload["sanitization"] == {
        "method": "purge",
        "technique": "cryptographic_erase",
        "tool": {"name": "Blancco Mobile", "version": "7.2.1"},
        "operator_role": "Erasure technician",
        "site": "Köln returns centre",
        "started_at": "2026-11-25T10:00:00Z",
        "ended_at": "2026-11-25T10:12:00Z",
    }
    assert payload["verification"]["verifier_role"] == "Quality lead"
    assert payload["destination"] == ErasureDestination.RESALE
    assert [event["step"] for event in payload["custody"]] == ["received", "erased"]


def test_a_certificate_payload_round_trips() -> None:
    """from_json reads back exactly what to_json wrote; a payload of the wrong shape names its path."""
    issued = issue()
    assert ErasureCertificate.from_json(issued.certificate.to_json()) == issued.certificate
    payload = issued.certificate.to_json()
    payload["device"]["identifiers"][0]["digest"] = payload["device"]["identifiers"][0]["digest"].upper()
    with pytest.raises(DocumentInvalidError) as caught:
        ErasureCertificate.from_json(payload)
    assert caught.value.kind == "erasure-certificate"
    assert [problem.path for problem in caught.value.problems] == ["$.device.identifiers[0].digest"]


# -- bundles ---------------------------------------------------------------------------------------------


def test_an_orders_certificates_travel_as_a_bundle() -> None:
    """Each certificate of a bundle verifies alone; another order's, or a device twice, is flagged."""
    first = issue()
    second_report = report(device_id="d2")
    second = issue(second_report)
    bundle = certificate_bundle(first.certificate.order_id, [first, second.to_json()])
    check = verify_bundle(json.dumps(bundle), JWKS)
    assert check.ok
    assert [item.certificate.device_id for item in check.checks if item.certificate] == ["d1", "d2"]

    stranger = issue(report(order_id="ord_other"))
    check = verify_bundle(certificate_bundle(first.certificate.order_id, [first, first, stranger]), JWKS)
    assert not check.ok
    assert [problem.path for problem in check.problems] == [
        "$.certificates[1].payload.device_id",
        "$.certificates[2].payload.order_id",
    ]
    assert not verify_bundle("[]", JWKS).ok
    assert not verify_bundle("{", JWKS).ok


def test_a_bundle_reports_each_revoked_certificate() -> None:
    """Revocation applies inside a bundle too."""
    first, second = issue(), issue(report(device_id="d2"))
    revocations = RevocationList(
        issuer=ISSUER,
        issued_at=NOW,
        revocations=[Revocation(certificate_id=second.certificate.id, reason="superseded", revoked_at=NOW)],
    )
    check = verify_bundle(
        certificate_bundle(first.certificate.order_id, [first, second]),
        JWKS,
        revocations=sign_revocations(revocations, RING),
    )
    assert [item.status for item in check.checks] == [CertificateStatus.VALID, CertificateStatus.REVOKED]
    assert not check.ok


def test_issued_certificate_text_is_the_signed_document() -> None:
    """to_text is indented JSON of the signed document, which verifies as it is."""
    issued = issue()
    assert json.loads(issued.to_text()) == issued.to_json()
    assert verify_certificate(issued.to_text(), JWKS).ok
    assert copy.deepcopy(issued.to_json()) == dict(issued.document)
