"""Data erasure: what was wiped, how, and a signed certificate a customer and an auditor verify offline.

The vocabulary follows **NIST SP 800-88 Rev. 1** (the minimum certificate fields of its §4.8: manufacturer,
model, serial number, media type, sanitization description, method, tool and version, verification
method, post-sanitization destination; for sanitization and verification the person's position or title,
the date and the location) and **IEEE 2883-2022** (Clear, Purge, Destruct). Nothing here does I/O or reads
the clock: times are passed in.

**The report** (:class:`ErasureReport`, ``schemas/erasure-report.schema.json``) is what the erasure
provider or the shop's staff reports for one device of an order: the device (manufacturer, model, media
type and capacity, its IMEI and/or serial number), the :class:`Sanitization` (method, technique, tool and
version, the operator's role, the site, start and end), the :class:`ErasureVerification` (method, result, the
verifier's role, when), the post-sanitization :class:`ErasureDestination` and the chain of custody
(:class:`CustodyEvent`: ``received``, any ``transferred``, one ``erased``, optionally ``disposed`` last, in
time order). People appear only by role or title, never by name. Every problem is reported with its JSON
path (:func:`erasure_report_problems`, :func:`parse_erasure_report`); the rules beyond the schema:

* ``ended_at`` is after ``started_at``; the verification is at or after the end;
* the technique is one of the method's: Clear by ``overwrite`` or ``factory_reset``; Purge by
  ``cryptographic_erase``, ``block_erase`` or (hard disks only) ``overwrite``; Destruct by
  ``physical_destruction``; ``crypto_key_destruction`` verifies a ``cryptographic_erase`` only;
* the chain of custody starts with ``received``, holds one ``erased`` step no earlier than the end of the
  sanitization, ends with ``disposed`` if at all (and only for recycling: a device for resale or parts is
  disposed of after its certificate), and its times never go back; the sanitization starts after receipt;
* the IMEI is 15 digits with a valid check digit; the serial number is plausible for the manufacturer.

**The rules of the lifecycle** take the device's state and history as plain values, so the application
calls them inside its own transaction:

* :func:`check_erasure_allowed`: an erasure is reported only while the shop holds the device and may wipe
  it (:data:`ERASABLE_STATES`): not before it was received, not while it is held or a mismatch (it may be
  evidence, or go back), not when it goes back to its owner or has left custody;
* :func:`require_verified` (called by :func:`issue_certificate`): no certificate without a passed
  verification;
* :func:`require_certificate_for`: a device goes to resale (the ``refurbish`` disposition) or parts only
  with a valid, unrevoked certificate for that very device, of a Purge (resale) or a Purge or Destruct
  (parts), as NIST SP 800-88 asks for media leaving the organisation's control; recycling needs none.

**The certificate** (:class:`ErasureCertificate`, ``schemas/erasure-certificate.schema.json``) carries the
report's fields, an id ``cert_<32 hex>``, the issue time, the issuer (the shop or organisation) and the
standards, and is signed as the payload of a :mod:`~tradein_sdk._domain.signing` envelope with purpose
``erasure-certificate``. It keeps no identifier in clear text: each is a :class:`HashedIdentifier`, its last
four characters and ``PBKDF2-HMAC-SHA256(password = the identifier, salt, iterations, 32 bytes)`` in lower
case hex, where the identifier is the IMEI's 15 digits or the serial number upper-cased without separators
(ASCII), and the salt (16 random bytes, base64url without padding, one per certificate) and the iterations
are written beside it. Whoever holds the IMEI checks it (:meth:`ErasureCertificate.identifier_matches`, or
any PBKDF2 implementation); the salt keeps one device's certificates from being linked, and the iterations
make guessing the ten unknown digits of an IMEI costly, not impossible.

**Verification** (:func:`verify_certificate`) needs only the published JWKS and, optionally, the signed
revocation list: it checks the signature, then the schema and rules, then revocation, and returns a
:class:`CertificateCheck` (``valid``, ``revoked`` or ``invalid`` with the reason and problems); its
:meth:`~CertificateCheck.require` raises the matching typed error.

**Revocation** (:class:`RevocationList`) is a signed document (purpose ``erasure-revocations``) listing
:class:`Revocation` entries (certificate id, reason code, time); publish the latest beside the JWKS. A
verifier holding an older list will not see later revocations: compare its ``issued_at``.

**An order's certificates** travel as a bundle (:func:`certificate_bundle`): an unsigned JSON object
``{"type": "erasure-certificate-bundle", "order_id": ..., "certificates": [<signed certificate>, ...]}``.
Each certificate is signed and verifies on its own; the bundle only groups them, so it proves nothing about
completeness. :func:`verify_bundle` checks every certificate and that each is for the bundle's order, one per
device.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any, Final

import attrs

from grading_questionnaire._schemas import json_path, schema_problems, validator
from tradein_sdk._domain.clock import as_utc
from tradein_sdk._domain.identifiers import normalize_serial_number, parse_imei
from tradein_sdk._domain.orders.vocabulary import DeviceState, Disposition
from tradein_sdk._domain.signing import (
    PublicKeys,
    SigningKeys,
    b64decode,
    b64encode,
    envelope_kid,
    loads_strict,
    sign_document,
    verify_document,
)
from tradein_sdk._errors import (
    CertificateRequiredError,
    CertificateRevokedError,
    DocumentInvalidError,
    DocumentProblem,
    ErasureNotAllowedError,
    ErasureUnverifiedError,
    InvalidIdentifierError,
    SignatureInvalidError,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from jsonschema.protocols import Validator

CERTIFICATE_PURPOSE: Final = "erasure-certificate"
"""The signing purpose of an erasure certificate."""
REVOCATIONS_PURPOSE: Final = "erasure-revocations"
"""The signing purpose of a revocation list."""
STANDARDS: Final = ("NIST SP 800-88 Rev. 1", "IEEE 2883-2022")
"""The standards every certificate names."""
IDENTIFIER_HASH_ITERATIONS: Final = 100_000
"""PBKDF2-HMAC-SHA256 iterations of a new certificate's identifier hashes."""
SALT_BYTES: Final = 16
"""The size of a certificate's identifier salt."""
MAX_TEXT_LENGTH: Final = 120
"""The longest free text (a role, a site, a tool name, the issuer)."""

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,119}")
_CERTIFICATE_ID = re.compile(r"cert_[0-9a-f]{32}")
_CERTIFICATE_TYPE = "erasure-certificate"
_REVOCATIONS_TYPE = "erasure-revocations"
_BUNDLE_TYPE = "erasure-certificate-bundle"
_FORMAT_VERSION = 1


# -- vocabulary --------------------------------------------------------------------------------------------


class SanitizationMethod(StrEnum):
    """How thoroughly data was made unrecoverable (IEEE 2883-2022; NIST SP 800-88: Clear/Purge/Destroy)."""

    CLEAR = "clear"
    """Logical techniques on user-addressable storage; protects against simple non-invasive recovery."""
    PURGE = "purge"
    """Recovery is infeasible even with laboratory techniques (cryptographic erase, block erase)."""
    DESTRUCT = "destruct"
    """The storage media is physically destroyed."""


class SanitizationTechnique(StrEnum):
    """The technique used (NIST SP 800-88's "method used")."""

    CRYPTOGRAPHIC_ERASE = "cryptographic_erase"
    BLOCK_ERASE = "block_erase"
    OVERWRITE = "overwrite"
    FACTORY_RESET = "factory_reset"
    PHYSICAL_DESTRUCTION = "physical_destruction"


class StorageMediaType(StrEnum):
    """The kind of storage that was sanitized."""

    EMBEDDED_FLASH = "embedded_flash"
    """Soldered flash (eMMC, UFS): phones, tablets, watches."""
    REMOVABLE_FLASH = "removable_flash"
    """A memory card."""
    SOLID_STATE_DRIVE = "solid_state_drive"
    HARD_DISK_DRIVE = "hard_disk_drive"


class VerificationMethod(StrEnum):
    """How the sanitization was verified."""

    FULL = "full"
    """Every addressable location was read back."""
    SAMPLING = "sampling"
    """A representative sample was read back."""
    TOOL_REPORT = "tool_report"
    """The sanitization tool's own report of success was checked."""
    CRYPTO_KEY_DESTRUCTION = "crypto_key_destruction"
    """The media encryption key was confirmed destroyed (a cryptographic erase)."""


class VerificationResult(StrEnum):
    """Whether the verification found the data gone."""

    PASSED = "passed"
    FAILED = "failed"


class ErasureDestination(StrEnum):
    """Where the device goes after sanitization (NIST SP 800-88's post-sanitization destination)."""

    RESALE = "resale"
    PARTS = "parts"
    RECYCLING = "recycling"


class CustodyStep(StrEnum):
    """A step of the chain of custody."""

    RECEIVED = "received"
    TRANSFERRED = "transferred"
    ERASED = "erased"
    DISPOSED = "disposed"


class IdentifierKind(StrEnum):
    """Which identifier a hashed identifier is."""

    IMEI = "imei"
    SERIAL_NUMBER = "serial_number"


class RevocationReason(StrEnum):
    """Why a certificate was revoked."""

    ISSUED_IN_ERROR = "issued_in_error"
    ERASURE_FAILED_AUDIT = "erasure_failed_audit"
    """A later check found data left on the device."""
    DEVICE_MISMATCH = "device_mismatch"
    """The certificate names another device than the one erased."""
    SUPERSEDED = "superseded"
    """The device was erased again and certified anew."""
    KEY_COMPROMISE = "key_compromise"


class CertificateStatus(StrEnum):
    """The outcome of verifying a certificate."""

    VALID = "valid"
    REVOKED = "revoked"
    INVALID = "invalid"


_TECHNIQUES: Final[Mapping[SanitizationMethod, frozenset[SanitizationTechnique]]] = {
    SanitizationMethod.CLEAR: frozenset(
        {SanitizationTechnique.OVERWRITE, SanitizationTechnique.FACTORY_RESET}
    ),
    SanitizationMethod.PURGE: frozenset(
        {
            SanitizationTechnique.CRYPTOGRAPHIC_ERASE,
            SanitizationTechnique.BLOCK_ERASE,
            SanitizationTechnique.OVERWRITE,
        }
    ),
    SanitizationMethod.DESTRUCT: frozenset({SanitizationTechnique.PHYSICAL_DESTRUCTION}),
}

ERASABLE_STATES: Final = frozenset(
    {
        DeviceState.RECEIVED,
        DeviceState.RELEASED,
        DeviceState.INSPECTED,
        DeviceState.CONFIRMED,
        DeviceState.REVISED,
        DeviceState.REVISION_ACCEPTED,
        DeviceState.PAID,
        DeviceState.CREDITED,
    }
)
"""The device states in which an erasure may be reported: received and in the shop's hands, not held,
not going back, not gone."""

_REFUSED_STATES: Final[Mapping[DeviceState, str]] = {
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

_MINIMUM_METHODS: Final[Mapping[ErasureDestination, frozenset[SanitizationMethod]]] = {
    ErasureDestination.RESALE: frozenset({SanitizationMethod.PURGE}),
    ErasureDestination.PARTS: frozenset({SanitizationMethod.PURGE, SanitizationMethod.DESTRUCT}),
}


# -- times -------------------------------------------------------------------------------------------------


def _utc_second(moment: datetime) -> datetime:
    return as_utc(moment).replace(microsecond=0)


def timestamp(moment: datetime) -> str:
    """Write a time as the certificate does: UTC, whole seconds, ``2026-11-24T12:00:00Z``."""
    return as_utc(moment).replace(microsecond=0, tzinfo=None).isoformat(timespec="seconds") + "Z"


def _parse_time(value: object, path: str, problems: list[DocumentProblem]) -> datetime:
    try:
        return _utc_second(datetime.fromisoformat(str(value)))
    except ValueError:
        problems.append(
            DocumentProblem(path=path, message=f"{value!r:.40} is not a date-time with a UTC offset")
        )
        return datetime.fromisoformat("2000-01-01T00:00:00+00:00")


# -- the parts of a report and a certificate ------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SanitizationTool:
    """The sanitization tool (NIST SP 800-88: "tool used, including version").

    Attributes:
        name: the tool's name.
        version: its version.
    """

    name: str
    version: str

    def to_json(self) -> dict[str, str]:
        """Return ``{"name", "version"}``."""
        return {"name": self.name, "version": self.version}


@attrs.frozen(kw_only=True)
class Sanitization:
    """How the device was sanitized, by whom (a role) and where.

    Attributes:
        method: Clear, Purge or Destruct.
        technique: the technique; it must be one of the method's (see the module docstring).
        tool: the tool and its version.
        operator_role: the position or title of whoever sanitized it (never a name).
        site: where it was sanitized.
        started_at: when it started (UTC, whole seconds).
        ended_at: when it ended; after ``started_at``.
    """

    method: SanitizationMethod = attrs.field(converter=SanitizationMethod)
    technique: SanitizationTechnique = attrs.field(converter=SanitizationTechnique)
    tool: SanitizationTool
    operator_role: str
    site: str
    started_at: datetime = attrs.field(converter=_utc_second)
    ended_at: datetime = attrs.field(converter=_utc_second)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (times as ``2026-11-24T12:00:00Z``)."""
        return {
            "method": self.method.value,
            "technique": self.technique.value,
            "tool": self.tool.to_json(),
            "operator_role": self.operator_role,
            "site": self.site,
            "started_at": timestamp(self.started_at),
            "ended_at": timestamp(self.ended_at),
        }


@attrs.frozen(kw_only=True)
class ErasureVerification:
    """How the sanitization was verified, with what result, by whom (a role) and when.

    Attributes:
        method: the verification method.
        result: passed or failed.
        verifier_role: the position or title of the verifier (never a name).
        verified_at: when (UTC, whole seconds); at or after the sanitization's end.
    """

    method: VerificationMethod = attrs.field(converter=VerificationMethod)
    result: VerificationResult = attrs.field(converter=VerificationResult)
    verifier_role: str
    verified_at: datetime = attrs.field(converter=_utc_second)

    def to_json(self) -> dict[str, str]:
        """Return the JSON form."""
        return {
            "method": self.method.value,
            "result": self.result.value,
            "verifier_role": self.verifier_role,
            "verified_at": timestamp(self.verified_at),
        }


@attrs.frozen(kw_only=True)
class CustodyEvent:
    """One step of the chain of custody.

    Attributes:
        step: received, transferred, erased or disposed.
        at: when (UTC, whole seconds).
        site: where.
        role: the position or title of who had the device (never a name).
    """

    step: CustodyStep = attrs.field(converter=CustodyStep)
    at: datetime = attrs.field(converter=_utc_second)
    site: str
    role: str

    def to_json(self) -> dict[str, str]:
        """Return the JSON form."""
        return {"step": self.step.value, "at": timestamp(self.at), "site": self.site, "role": self.role}


def _custody_tuple(events: Iterable[CustodyEvent]) -> tuple[CustodyEvent, ...]:
    return tuple(events)


@attrs.frozen(kw_only=True)
class ReportedDevice:
    """The device as the erasure report names it.

    Attributes:
        manufacturer: the manufacturer (``Apple``).
        model: the model (``iPhone 13``).
        media_type: the kind of storage.
        capacity_gb: the storage capacity in GB.
        imei: the IMEI, 15 digits without separators, if it has one.
        serial_number: the serial number, upper-case without separators, if known. One of the two is
            required.
    """

    manufacturer: str
    model: str
    media_type: StorageMediaType = attrs.field(converter=StorageMediaType)
    capacity_gb: int
    imei: str | None = None
    serial_number: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (identifiers only when present)."""
        data: dict[str, Any] = {
            "manufacturer": self.manufacturer,
            "model": self.model,
            "media_type": self.media_type.value,
            "capacity_gb": self.capacity_gb,
        }
        if self.imei is not None:
            data["imei"] = self.imei
        if self.serial_number is not None:
            data["serial_number"] = self.serial_number
        return data


# -- rules -------------------------------------------------------------------------------------------------


def _text_problem(path: str, value: object) -> DocumentProblem | None:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= MAX_TEXT_LENGTH
        or not value.isprintable()
        or value != value.strip()
    ):
        return DocumentProblem(
            path=path,
            message=f"must be 1-{MAX_TEXT_LENGTH} printable characters without spaces around them",
        )
    return None


def _reference_problem(path: str, value: object) -> DocumentProblem | None:
    if not isinstance(value, str) or not _REFERENCE.fullmatch(value):
        return DocumentProblem(
            path=path, message="must be 1-120 of A-Z a-z 0-9 _ . : - (first a letter or digit)"
        )
    return None


def _record_problems(
    *,
    media_type: StorageMediaType,
    sanitization: Sanitization,
    verification: ErasureVerification,
    destination: ErasureDestination,
    custody: tuple[CustodyEvent, ...],
) -> list[DocumentProblem]:
    """The rules shared by reports and certificates (see the module docstring), with JSON paths."""
    problems: list[DocumentProblem] = []

    def problem(message: str, *parts: str | int) -> None:
        problems.append(DocumentProblem(path=json_path(*parts), message=message))

    texts = [
        (json_path("sanitization", "tool", "name"), sanitization.tool.name),
        (json_path("sanitization", "tool", "version"), sanitization.tool.version),
        (json_path("sanitization", "operator_role"), sanitization.operator_role),
        (json_path("sanitization", "site"), sanitization.site),
        (json_path("verification", "verifier_role"), verification.verifier_role),
    ]
    for index, event in enumerate(custody):
        texts += [
            (json_path("custody", index, "site"), event.site),
            (json_path("custody", index, "role"), event.role),
        ]
    problems.extend(found for path, value in texts if (found := _text_problem(path, value)) is not None)

    if sanitization.ended_at <= sanitization.started_at:
        problem(
            f"must be after started_at ({timestamp(sanitization.started_at)})", "sanitization", "ended_at"
        )
    allowed = _TECHNIQUES[sanitization.method]
    overwrite_purge = (
        sanitization.method is SanitizationMethod.PURGE
        and sanitization.technique is SanitizationTechnique.OVERWRITE
        and media_type is not StorageMediaType.HARD_DISK_DRIVE
    )
    if sanitization.technique not in allowed or overwrite_purge:
        names = ", ".join(sorted(technique.value for technique in allowed))
        problem(
            f"{sanitization.technique.value} is not a {sanitization.method.value} technique for "
            f"{media_type.value} (a {sanitization.method.value} is by {names}; overwrite purges hard "
            "disks only)",
            "sanitization",
            "technique",
        )
    if (
        verification.method is VerificationMethod.CRYPTO_KEY_DESTRUCTION
        and sanitization.technique is not SanitizationTechnique.CRYPTOGRAPHIC_ERASE
    ):
        problem("crypto_key_destruction verifies a cryptographic_erase only", "verification", "method")
    if verification.verified_at < sanitization.ended_at:
        problem(
            f"is before the sanitization ended ({timestamp(sanitization.ended_at)})",
            "verification",
            "verified_at",
        )
    problems.extend(_custody_problems(sanitization, destination, custody))
    return problems


def _custody_problems(
    sanitization: Sanitization, destination: ErasureDestination, custody: tuple[CustodyEvent, ...]
) -> Iterator[DocumentProblem]:
    if not custody or custody[0].step is not CustodyStep.RECEIVED:
        yield DocumentProblem(
            path=json_path("custody", 0), message="the chain of custody starts with received"
        )
    elif sanitization.started_at < custody[0].at:
        yield DocumentProblem(
            path=json_path("sanitization", "started_at"),
            message=f"is before the device was received ({timestamp(custody[0].at)}, $.custody[0].at)",
        )
    erased = [index for index, event in enumerate(custody) if event.step is CustodyStep.ERASED]
    if len(erased) != 1:
        yield DocumentProblem(
            path=json_path("custody"), message=f"must hold exactly one erased step, not {len(erased)}"
        )
    elif custody[erased[0]].at < sanitization.ended_at:
        yield DocumentProblem(
            path=json_path("custody", erased[0], "at"),
            message=f"is before the sanitization ended ({timestamp(sanitization.ended_at)})",
        )
    for index, event in enumerate(custody):
        yield from _custody_step_problems(index, event, custody, destination)


def _custody_step_problems(
    index: int, event: CustodyEvent, custody: tuple[CustodyEvent, ...], destination: ErasureDestination
) -> Iterator[DocumentProblem]:
    if index and event.step is CustodyStep.RECEIVED:
        yield DocumentProblem(
            path=json_path("custody", index, "step"), message="received is the first step only"
        )
    if index and event.at < custody[index - 1].at:
        yield DocumentProblem(
            path=json_path("custody", index, "at"),
            message=f"is before the step before it ({timestamp(custody[index - 1].at)}): out of order",
        )
    if event.step is CustodyStep.DISPOSED and index != len(custody) - 1:
        yield DocumentProblem(
            path=json_path("custody", index, "step"), message="disposed is the last step only"
        )
    elif event.step is CustodyStep.DISPOSED and destination is not ErasureDestination.RECYCLING:
        yield DocumentProblem(
            path=json_path("custody", index, "step"),
            message=f"a device for {destination.value} is disposed of only after its certificate is issued",
        )


def _identifier_problems(device: ReportedDevice) -> Iterator[DocumentProblem]:
    if device.imei is None and device.serial_number is None:
        yield DocumentProblem(path=json_path("device"), message="needs an imei or a serial_number")
    if device.imei is not None:
        try:
            compact = parse_imei(device.imei).value
        except InvalidIdentifierError as exc:
            yield DocumentProblem(path=json_path("device", "imei"), message=f"{exc} [{exc.rule}]")
        else:
            if compact != device.imei:
                yield DocumentProblem(
                    path=json_path("device", "imei"), message="write it as 15 digits without separators"
                )
    if device.serial_number is not None:
        try:
            normal = normalize_serial_number(device.serial_number, brand=device.manufacturer)
        except InvalidIdentifierError as exc:
            yield DocumentProblem(path=json_path("device", "serial_number"), message=f"{exc} [{exc.rule}]")
        else:
            if normal != device.serial_number:
                yield DocumentProblem(
                    path=json_path("device", "serial_number"), message=f"write it as {normal}"
                )


def _device_problems(manufacturer: object, model: object, capacity_gb: object) -> Iterator[DocumentProblem]:
    for name, value in (("manufacturer", manufacturer), ("model", model)):
        found = _text_problem(json_path("device", name), value)
        if found is not None:
            yield found
    if isinstance(capacity_gb, bool) or not isinstance(capacity_gb, int) or not 1 <= capacity_gb <= 2**20:
        yield DocumentProblem(
            path=json_path("device", "capacity_gb"), message="must be a whole number of GB, 1-1048576"
        )


# -- the report ------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ErasureReport:
    """What the provider or the shop's staff reports about the erasure of one device of an order.

    Attributes:
        order_id: the order.
        device_id: the device within the order (``d1``).
        device: the device, with its IMEI and/or serial number.
        sanitization: how it was sanitized.
        verification: how that was verified.
        destination: where it goes afterwards.
        custody: the chain of custody, in time order, starting with ``received``.

    Raises:
        DocumentInvalidError: a rule of the module docstring does not hold (kind ``erasure-report``; each
            problem has the JSON path it would have in the report's JSON form).
    """

    order_id: str
    device_id: str
    device: ReportedDevice
    sanitization: Sanitization
    verification: ErasureVerification
    destination: ErasureDestination = attrs.field(converter=ErasureDestination)
    custody: tuple[CustodyEvent, ...] = attrs.field(converter=_custody_tuple)

    def __attrs_post_init__(self) -> None:
        """Check every rule and raise listing each problem."""
        problems = self.problems()
        if problems:
            raise DocumentInvalidError(kind="erasure-report", source="<memory>", problems=problems)

    def problems(self) -> list[DocumentProblem]:
        """Return every rule this report breaks, with JSON paths (empty for a constructed report)."""
        problems = [
            found
            for found in (
                _reference_problem(json_path("order_id"), self.order_id),
                _reference_problem(json_path("device_id"), self.device_id),
            )
            if found is not None
        ]
        problems.extend(
            _device_problems(self.device.manufacturer, self.device.model, self.device.capacity_gb)
        )
        problems.extend(_identifier_problems(self.device))
        problems.extend(
            _record_problems(
                media_type=self.device.media_type,
                sanitization=self.sanitization,
                verification=self.verification,
                destination=self.destination,
                custody=self.custody,
            )
        )
        return problems

    def to_json(self) -> dict[str, Any]:
        """Return the report's JSON form (``schemas/erasure-report.schema.json``)."""
        return {
            "order_id": self.order_id,
            "device_id": self.device_id,
            "device": self.device.to_json(),
            "sanitization": self.sanitization.to_json(),
            "verification": self.verification.to_json(),
            "destination": self.destination.value,
            "custody": [event.to_json() for event in self.custody],
        }

    @classmethod
    def from_json(cls, document: object) -> ErasureReport:
        """Read a report document; the same as :func:`parse_erasure_report`."""
        return parse_erasure_report(document)


def _structure_report(document: object) -> tuple[ErasureReport | None, list[DocumentProblem]]:
    """Validate a report document and build the report, or list every problem with its JSON path."""
    problems = [
        DocumentProblem(path=path, message=message)
        for path, message in schema_problems("erasure-report", document)
    ]
    if problems or not isinstance(document, Mapping):
        return None, problems
    device = document["device"]
    serial = device.get("serial_number")
    if serial is not None:
        # Normalise what a provider may write in lower case or with dashes; a bad one is reported below.
        with contextlib.suppress(InvalidIdentifierError):
            serial = normalize_serial_number(serial, brand=device["manufacturer"])
    sanitization, verification = document["sanitization"], document["verification"]
    started = _parse_time(sanitization["started_at"], json_path("sanitization", "started_at"), problems)
    ended = _parse_time(sanitization["ended_at"], json_path("sanitization", "ended_at"), problems)
    verified = _parse_time(verification["verified_at"], json_path("verification", "verified_at"), problems)
    custody = [
        CustodyEvent(
            step=event["step"],
            at=_parse_time(event["at"], json_path("custody", index, "at"), problems),
            site=event["site"],
            role=event["role"],
        )
        for index, event in enumerate(document["custody"])
    ]
    if problems:
        return None, problems
    try:
        report = ErasureReport(
            order_id=document["order_id"],
            device_id=document["device_id"],
            device=ReportedDevice(
                manufacturer=device["manufacturer"],
                model=device["model"],
                media_type=device["media_type"],
                capacity_gb=device["capacity_gb"],
                imei=device.get("imei"),
                serial_number=serial,
            ),
            sanitization=Sanitization(
                method=sanitization["method"],
                technique=sanitization["technique"],
                tool=SanitizationTool(
                    name=sanitization["tool"]["name"], version=sanitization["tool"]["version"]
                ),
                operator_role=sanitization["operator_role"],
                site=sanitization["site"],
                started_at=started,
                ended_at=ended,
            ),
            verification=ErasureVerification(
                method=verification["method"],
                result=verification["result"],
                verifier_role=verification["verifier_role"],
                verified_at=verified,
            ),
            destination=document["destination"],
            custody=custody,
        )
    except DocumentInvalidError as exc:
        return None, list(exc.problems)
    return report, []


def erasure_report_problems(document: object) -> list[DocumentProblem]:
    """Return every problem of an erasure report document, each with its JSON path.

    Args:
        document: the decoded JSON document.

    Returns:
        Schema problems (then nothing else), or the problems of dates and rules (see the module
        docstring); empty when the report is valid.
    """
    return _structure_report(document)[1]


def parse_erasure_report(document: object) -> ErasureReport:
    """Read an erasure report document (``schemas/erasure-report.schema.json``).

    A serial number may be written in lower case or with separators; it is normalised.

    Args:
        document: the decoded JSON document.

    Returns:
        The report.

    Raises:
        DocumentInvalidError: the document is not a valid report (kind ``erasure-report``); each problem
            names its JSON path.
    """
    report, problems = _structure_report(document)
    if report is None:
        raise DocumentInvalidError(kind="erasure-report", source="<memory>", problems=problems)
    return report


# -- lifecycle rules -------------------------------------------------------------------------------------


def check_erasure_allowed(
    state: DeviceState | str, *, received_at: datetime | None = None, report: ErasureReport | None = None
) -> None:
    """Check that an erasure may be reported for a device in ``state``.

    Args:
        state: the device's state (see :data:`ERASABLE_STATES`).
        received_at: when the device was received (from its history), if known.
        report: the report to record; with ``received_at``, its custody must not start earlier.

    Raises:
        ErasureNotAllowedError: ``rule`` ``not_received``, ``held``, ``going_back``, ``left_custody`` or
            ``before_receipt``.
        ValueError: ``state`` is not a device state, or ``received_at`` is naive.
    """
    state = DeviceState(state)
    if state not in ERASABLE_STATES:
        raise ErasureNotAllowedError(state=state.value, rule=_REFUSED_STATES[state])
    if received_at is not None and report is not None:
        received_at = _utc_second(received_at)
        first = report.custody[0].at
        if first < received_at:
            raise ErasureNotAllowedError(
                state=state.value,
                rule="before_receipt",
                at=timestamp(first),
                received_at=timestamp(received_at),
            )


def require_verified(report: ErasureReport) -> None:
    """Check that the report's verification passed: no certificate is issued otherwise.

    Raises:
        ErasureUnverifiedError: the verification failed.
    """
    if report.verification.result is not VerificationResult.PASSED:
        raise ErasureUnverifiedError(
            order_id=report.order_id, device_id=report.device_id, result=report.verification.result.value
        )


def destination_of(disposition: Disposition | ErasureDestination | str) -> ErasureDestination:
    """Return the post-sanitization destination of a disposition (``refurbish`` is resale).

    Args:
        disposition: a :class:`Disposition` (``refurbish``, ``parts``, ``recycle``), an
            :class:`ErasureDestination`, or the text of either.

    Returns:
        The destination.

    Raises:
        ValueError: it is neither.
    """
    text = str(disposition)
    mapping = {
        Disposition.REFURBISH.value: ErasureDestination.RESALE,
        Disposition.PARTS.value: ErasureDestination.PARTS,
        Disposition.RECYCLE.value: ErasureDestination.RECYCLING,
    }
    if text in mapping:
        return mapping[text]
    return ErasureDestination(text)


def require_certificate_for(
    disposition: Disposition | ErasureDestination | str,
    certificate: ErasureCertificate | CertificateCheck | None,
    *,
    revoked: bool = False,
    order_id: str | None = None,
    device_id: str | None = None,
) -> None:
    """Check that a device may go to ``disposition``: resale and parts need a valid erasure certificate.

    Args:
        disposition: where the device goes (``refurbish``/``resale``, ``parts``, ``recycle``/``recycling``).
        certificate: the device's certificate (or the check of its signed document), ``None`` if none.
        revoked: whether the certificate is revoked (as the shop's records say).
        order_id: the device's order; when given, the certificate must be for it.
        device_id: the device; when given, the certificate must be for it.

    Raises:
        CertificateRequiredError: ``reason`` ``missing``, ``revoked``, ``invalid``, ``unverified``,
            ``other_device`` or ``insufficient_method``.
        ValueError: ``disposition`` is not a disposition or destination.
    """
    destination = destination_of(disposition)
    needed = _MINIMUM_METHODS.get(destination)
    if needed is None:
        return
    name = destination.value
    if isinstance(certificate, CertificateCheck):
        check = certificate
        certificate = check.certificate
        if check.status is CertificateStatus.REVOKED:
            revoked = True
        elif check.status is CertificateStatus.INVALID:
            raise CertificateRequiredError(
                disposition=name,
                reason="invalid",
                certificate_id=certificate.id if certificate else "the certificate",
            )
    if certificate is None:
        raise CertificateRequiredError(disposition=name, reason="missing")
    if revoked:
        raise CertificateRequiredError(disposition=name, reason="revoked", certificate_id=certificate.id)
    if certificate.verification.result is not VerificationResult.PASSED:
        raise CertificateRequiredError(disposition=name, reason="unverified", certificate_id=certificate.id)
    if (order_id is not None and certificate.order_id != order_id) or (
        device_id is not None and certificate.device_id != device_id
    ):
        raise CertificateRequiredError(
            disposition=name,
            reason="other_device",
            certificate_id=certificate.id,
            certified=certificate.device_id,
            certified_order=certificate.order_id,
        )
    if certificate.sanitization.method not in needed:
        raise CertificateRequiredError(
            disposition=name,
            reason="insufficient_method",
            certificate_id=certificate.id,
            needed=" or ".join(sorted(method.value for method in needed)),
            method=certificate.sanitization.method.value,
        )


# -- hashed identifiers ----------------------------------------------------------------------------------


def _normalised(kind: IdentifierKind, value: str, manufacturer: str | None) -> str | None:
    try:
        if kind is IdentifierKind.IMEI:
            return parse_imei(value).value
        return normalize_serial_number(value, brand=manufacturer)
    except InvalidIdentifierError:
        return None


def _pbkdf2(value: str, salt: bytes, iterations: int) -> str:
    return hashlib.pbkdf2_hmac("sha256", value.encode("ascii"), salt, iterations).hex()


@attrs.frozen(kw_only=True)
class HashedIdentifier:
    """A device identifier as a certificate keeps it: its last four characters and a salted slow hash.

    Attributes:
        kind: IMEI or serial number.
        last4: the identifier's last four characters.
        salt: the certificate's salt (16 bytes).
        iterations: the PBKDF2 iterations.
        digest: ``PBKDF2-HMAC-SHA256(identifier, salt, iterations, 32)`` in lower-case hex.
    """

    kind: IdentifierKind = attrs.field(converter=IdentifierKind)
    last4: str
    salt: bytes
    iterations: int
    digest: str

    @classmethod
    def of(
        cls, kind: IdentifierKind, value: str, *, salt: bytes, iterations: int = IDENTIFIER_HASH_ITERATIONS
    ) -> HashedIdentifier:
        """Hash a normalised identifier (15 IMEI digits, or the serial number upper-cased without separators).

        Args:
            kind: which identifier it is.
            value: the normalised identifier.
            salt: the certificate's salt.
            iterations: the PBKDF2 iterations.

        Returns:
            The hashed identifier.
        """
        return cls(
            kind=kind,
            last4=value[-4:],
            salt=salt,
            iterations=iterations,
            digest=_pbkdf2(value, salt, iterations),
        )

    def matches(self, value: str, *, manufacturer: str | None = None) -> bool:
        """Return whether ``value`` is this identifier (separators and, for serials, case are ignored).

        Args:
            value: an IMEI or serial number as typed.
            manufacturer: the device's manufacturer, for the serial number's checks.

        Returns:
            ``True`` when its hash matches.
        """
        normal = _normalised(self.kind, value, manufacturer)
        if normal is None or normal[-4:] != self.last4:
            return False
        return hmac.compare_digest(_pbkdf2(normal, self.salt, self.iterations), self.digest)

    def to_json(self) -> dict[str, Any]:
        """Return ``{"kind", "last4", "salt", "iterations", "digest"}`` (the salt in base64url)."""
        return {
            "kind": self.kind.value,
            "last4": self.last4,
            "salt": b64encode(self.salt),
            "iterations": self.iterations,
            "digest": self.digest,
        }


def _identifiers_tuple(identifiers: Iterable[HashedIdentifier]) -> tuple[HashedIdentifier, ...]:
    return tuple(identifiers)


@attrs.frozen(kw_only=True)
class CertifiedDevice:
    """The device as the certificate names it: no identifier in clear text.

    Attributes:
        manufacturer: the manufacturer.
        model: the model.
        media_type: the kind of storage.
        capacity_gb: the capacity in GB.
        identifiers: its IMEI and/or serial number, hashed.
    """

    manufacturer: str
    model: str
    media_type: StorageMediaType = attrs.field(converter=StorageMediaType)
    capacity_gb: int
    identifiers: tuple[HashedIdentifier, ...] = attrs.field(converter=_identifiers_tuple)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "manufacturer": self.manufacturer,
            "model": self.model,
            "media_type": self.media_type.value,
            "capacity_gb": self.capacity_gb,
            "identifiers": [identifier.to_json() for identifier in self.identifiers],
        }


# -- the certificate ------------------------------------------------------------------------------------


def _standards_tuple(standards: Iterable[str]) -> tuple[str, ...]:
    return tuple(standards)


@attrs.frozen(kw_only=True)
class ErasureCertificate:
    """A certificate of sanitization for one device of an order (the payload of a signed envelope).

    Attributes:
        id: ``cert_`` and 32 lower-case hex digits.
        issued_at: when it was issued (UTC, whole seconds); no time it records is later.
        issuer: the shop or organisation that issues it.
        order_id: the order.
        device_id: the device within the order.
        device: the device, its identifiers hashed.
        sanitization: how it was sanitized.
        verification: how that was verified; always passed.
        destination: where the device goes afterwards.
        custody: the chain of custody.
        standards: the standards it follows (:data:`STANDARDS`).

    Raises:
        DocumentInvalidError: a rule does not hold (kind ``erasure-certificate``; JSON paths).
    """

    id: str
    issued_at: datetime = attrs.field(converter=_utc_second)
    issuer: str
    order_id: str
    device_id: str
    device: CertifiedDevice
    sanitization: Sanitization
    verification: ErasureVerification
    destination: ErasureDestination = attrs.field(converter=ErasureDestination)
    custody: tuple[CustodyEvent, ...] = attrs.field(converter=_custody_tuple)
    standards: tuple[str, ...] = attrs.field(converter=_standards_tuple, default=STANDARDS)

    def __attrs_post_init__(self) -> None:
        """Check every rule and raise listing each problem."""
        problems = self.problems()
        if problems:
            raise DocumentInvalidError(kind="erasure-certificate", source="<memory>", problems=problems)

    def problems(self) -> list[DocumentProblem]:
        """Return every rule this certificate breaks, with JSON paths (empty for a constructed one)."""
        problems: list[DocumentProblem] = []
        if not isinstance(self.id, str) or not _CERTIFICATE_ID.fullmatch(self.id):
            problems.append(
                DocumentProblem(path="$.id", message="must be cert_ and 32 lower-case hex digits")
            )
        problems.extend(
            found
            for found in (
                _text_problem("$.issuer", self.issuer),
                _reference_problem("$.order_id", self.order_id),
                _reference_problem("$.device_id", self.device_id),
            )
            if found is not None
        )
        problems.extend(
            _device_problems(self.device.manufacturer, self.device.model, self.device.capacity_gb)
        )
        if not self.device.identifiers:
            problems.append(
                DocumentProblem(path="$.device.identifiers", message="needs an imei or a serial_number")
            )
        problems.extend(
            _record_problems(
                media_type=self.device.media_type,
                sanitization=self.sanitization,
                verification=self.verification,
                destination=self.destination,
                custody=self.custody,
            )
        )
        if self.verification.result is not VerificationResult.PASSED:
            problems.append(
                DocumentProblem(
                    path="$.verification.result", message="a certificate records a passed verification only"
                )
            )
        problems.extend(
            DocumentProblem(
                path=path, message=f"is after the certificate was issued ({timestamp(self.issued_at)})"
            )
            for path, moment in _recorded_times(self.sanitization, self.verification, self.custody)
            if moment > self.issued_at
        )
        return problems

    def identifier_matches(self, value: str) -> bool:
        """Return whether ``value`` (an IMEI or serial number, as typed) is one this certificate names.

        Args:
            value: the identifier a holder of the device reads from it (``*#06#``, the settings, the box).

        Returns:
            ``True`` when one of the hashed identifiers matches.
        """
        return any(
            identifier.matches(value, manufacturer=self.device.manufacturer)
            for identifier in self.device.identifiers
        )

    def to_json(self) -> dict[str, Any]:
        """Return the certificate's JSON form: the payload (``schemas/erasure-certificate.schema.json``)."""
        return {
            "type": _CERTIFICATE_TYPE,
            "version": _FORMAT_VERSION,
            "id": self.id,
            "issued_at": timestamp(self.issued_at),
            "issuer": self.issuer,
            "standards": list(self.standards),
            "order_id": self.order_id,
            "device_id": self.device_id,
            "device": self.device.to_json(),
            "sanitization": self.sanitization.to_json(),
            "verification": self.verification.to_json(),
            "destination": self.destination.value,
            "custody": [event.to_json() for event in self.custody],
        }

    @classmethod
    def from_json(cls, document: object) -> ErasureCertificate:
        """Read a certificate's JSON form: the payload (verify a signed one with :func:`verify_certificate`).

        Args:
            document: the decoded payload.

        Returns:
            The certificate.

        Raises:
            DocumentInvalidError: it is not a valid certificate (kind ``erasure-certificate``; JSON paths).
        """
        certificate, problems = _structure_certificate(document)
        if certificate is None:
            raise DocumentInvalidError(kind="erasure-certificate", source="<memory>", problems=problems)
        return certificate


def _recorded_times(
    sanitization: Sanitization, verification: ErasureVerification, custody: tuple[CustodyEvent, ...]
) -> list[tuple[str, datetime]]:
    return [
        ("$.sanitization.started_at", sanitization.started_at),
        ("$.sanitization.ended_at", sanitization.ended_at),
        ("$.verification.verified_at", verification.verified_at),
        *((json_path("custody", index, "at"), event.at) for index, event in enumerate(custody)),
    ]


def _structure_certificate(document: object) -> tuple[ErasureCertificate | None, list[DocumentProblem]]:
    problems = [
        DocumentProblem(path=path, message=message)
        for path, message in schema_problems("erasure-certificate", document)
    ]
    if problems or not isinstance(document, Mapping):
        return None, problems
    sanitization, verification, device = (
        document["sanitization"],
        document["verification"],
        document["device"],
    )
    times = {
        name: _parse_time(value, path, problems)
        for name, value, path in (
            ("issued", document["issued_at"], "$.issued_at"),
            ("started", sanitization["started_at"], "$.sanitization.started_at"),
            ("ended", sanitization["ended_at"], "$.sanitization.ended_at"),
            ("verified", verification["verified_at"], "$.verification.verified_at"),
        )
    }
    custody = [
        CustodyEvent(
            step=event["step"],
            at=_parse_time(event["at"], json_path("custody", index, "at"), problems),
            site=event["site"],
            role=event["role"],
        )
        for index, event in enumerate(document["custody"])
    ]
    identifiers = []
    for index, entry in enumerate(device["identifiers"]):
        salt = b64decode(entry["salt"], size=SALT_BYTES)
        if salt is None:
            problems.append(
                DocumentProblem(
                    path=json_path("device", "identifiers", index, "salt"),
                    message=f"must be {SALT_BYTES} bytes as canonical unpadded base64url",
                )
            )
            continue
        identifiers.append(
            HashedIdentifier(
                kind=entry["kind"],
                last4=entry["last4"],
                salt=salt,
                iterations=entry["iterations"],
                digest=entry["digest"],
            )
        )
    if problems:
        return None, problems
    try:
        certificate = ErasureCertificate(
            id=document["id"],
            issued_at=times["issued"],
            issuer=document["issuer"],
            order_id=document["order_id"],
            device_id=document["device_id"],
            device=CertifiedDevice(
                manufacturer=device["manufacturer"],
                model=device["model"],
                media_type=device["media_type"],
                capacity_gb=device["capacity_gb"],
                identifiers=identifiers,
            ),
            sanitization=Sanitization(
                method=sanitization["method"],
                technique=sanitization["technique"],
                tool=SanitizationTool(
                    name=sanitization["tool"]["name"], version=sanitization["tool"]["version"]
                ),
                operator_role=sanitization["operator_role"],
                site=sanitization["site"],
                started_at=times["started"],
                ended_at=times["ended"],
            ),
            verification=ErasureVerification(
                method=verification["method"],
                result=verification["result"],
                verifier_role=verification["verifier_role"],
                verified_at=times["verified"],
            ),
            destination=document["destination"],
            custody=custody,
            standards=document["standards"],
        )
    except DocumentInvalidError as exc:
        return None, list(exc.problems)
    if certificate.to_json() != document:  # pragma: no cover - the schema's patterns make this hold
        return None, [DocumentProblem(path="$", message="is not in the certificate's canonical form")]
    return certificate, []


@attrs.frozen(kw_only=True)
class IssuedCertificate:
    """A newly issued certificate and its signed document, which is what the customer and auditors get.

    Attributes:
        certificate: the certificate.
        document: the signed envelope ``{"payload": <certificate JSON>, "signature": {...}}``.
    """

    certificate: ErasureCertificate
    document: Mapping[str, Any] = attrs.field(eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """Return a copy of the signed document."""
        copy: dict[str, Any] = json.loads(json.dumps(self.document))
        return copy

    def to_text(self) -> str:
        """Return the signed document as indented JSON text (UTF-8 kept), for a file or a QR code."""
        return json.dumps(self.document, ensure_ascii=False, indent=2) + "\n"


def issue_certificate(
    report: ErasureReport,
    *,
    issuer: str,
    keys: SigningKeys,
    now: datetime,
    certificate_id: str | None = None,
    salt: bytes | None = None,
) -> IssuedCertificate:
    """Issue and sign the erasure certificate of a verified report.

    Args:
        report: the erasure report; its verification must have passed.
        issuer: the shop or organisation issuing it (1-120 printable characters).
        keys: the signing ring; its active key signs.
        now: the issue time (aware); no time of the report may be later.
        certificate_id: the id (``cert_`` and 32 lower-case hex digits); a random one when ``None``.
        salt: the identifier salt (16 bytes); random when ``None``.

    Returns:
        The certificate and its signed document (purpose ``erasure-certificate``).

    Raises:
        ErasureUnverifiedError: the verification did not pass.
        DocumentInvalidError: the issuer or id is not valid, or a time of the report is after ``now``
            (kind ``erasure-certificate``; JSON paths of the certificate).
        ValueError: ``now`` is naive, or ``salt`` is not 16 bytes.
    """
    require_verified(report)
    if salt is None:
        salt = secrets.token_bytes(SALT_BYTES)
    if not isinstance(salt, bytes) or len(salt) != SALT_BYTES:
        raise ValueError(f"the identifier salt must be {SALT_BYTES} bytes")
    device = report.device
    identifiers = [
        HashedIdentifier.of(kind, value, salt=salt)
        for kind, value in (
            (IdentifierKind.IMEI, device.imei),
            (IdentifierKind.SERIAL_NUMBER, device.serial_number),
        )
        if value is not None
    ]
    certificate = ErasureCertificate(
        id=certificate_id if certificate_id is not None else f"cert_{secrets.token_hex(16)}",
        issued_at=now,
        issuer=issuer,
        order_id=report.order_id,
        device_id=report.device_id,
        device=CertifiedDevice(
            manufacturer=device.manufacturer,
            model=device.model,
            media_type=device.media_type,
            capacity_gb=device.capacity_gb,
            identifiers=identifiers,
        ),
        sanitization=report.sanitization,
        verification=report.verification,
        destination=report.destination,
        custody=report.custody,
    )
    document = sign_document(certificate.to_json(), keys, purpose=CERTIFICATE_PURPOSE)
    return IssuedCertificate(certificate=certificate, document=document)


# -- revocation ------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Revocation:
    """The revocation of one certificate.

    Attributes:
        certificate_id: the certificate revoked.
        reason: why.
        revoked_at: when (UTC, whole seconds).
    """

    certificate_id: str
    reason: RevocationReason = attrs.field(converter=RevocationReason)
    revoked_at: datetime = attrs.field(converter=_utc_second)

    def to_json(self) -> dict[str, str]:
        """Return ``{"certificate_id", "reason", "revoked_at"}``."""
        return {
            "certificate_id": self.certificate_id,
            "reason": self.reason.value,
            "revoked_at": timestamp(self.revoked_at),
        }


def _revocations_tuple(revocations: Iterable[Revocation]) -> tuple[Revocation, ...]:
    return tuple(revocations)


@attrs.frozen(kw_only=True)
class RevocationList:
    """Every certificate an issuer revoked, as of one time (signed with purpose ``erasure-revocations``).

    Attributes:
        issuer: the issuer of the certificates.
        issued_at: the time this list is as of; a verifier compares it to judge freshness.
        revocations: the revocations, one per certificate.

    Raises:
        DocumentInvalidError: a certificate id is malformed or listed twice, a revocation is after
            ``issued_at``, or the issuer is not valid text (kind ``erasure-revocations``).
    """

    issuer: str
    issued_at: datetime = attrs.field(converter=_utc_second)
    revocations: tuple[Revocation, ...] = attrs.field(converter=_revocations_tuple, default=())

    def __attrs_post_init__(self) -> None:
        """Check the list and raise listing each problem."""
        problems = [found for found in (_text_problem("$.issuer", self.issuer),) if found is not None]
        seen: set[str] = set()
        for index, revocation in enumerate(self.revocations):
            if not _CERTIFICATE_ID.fullmatch(revocation.certificate_id):
                problems.append(
                    DocumentProblem(
                        path=json_path("revocations", index, "certificate_id"),
                        message="must be cert_ and 32 lower-case hex digits",
                    )
                )
            if revocation.certificate_id in seen:
                problems.append(
                    DocumentProblem(
                        path=json_path("revocations", index, "certificate_id"), message="is listed twice"
                    )
                )
            seen.add(revocation.certificate_id)
            if revocation.revoked_at > self.issued_at:
                problems.append(
                    DocumentProblem(
                        path=json_path("revocations", index, "revoked_at"),
                        message=f"is after the list was issued ({timestamp(self.issued_at)})",
                    )
                )
        if problems:
            raise DocumentInvalidError(kind="erasure-revocations", source="<memory>", problems=problems)

    def revoked(self, certificate_id: str) -> Revocation | None:
        """Return the revocation of ``certificate_id``, or ``None`` when it is not revoked."""
        return next((entry for entry in self.revocations if entry.certificate_id == certificate_id), None)

    def with_revocation(self, revocation: Revocation, *, now: datetime) -> RevocationList:
        """Return the list with ``revocation`` added, as of ``now``.

        A certificate revoked again keeps its first revocation.

        Args:
            revocation: the revocation to add.
            now: the new list's time (aware).

        Returns:
            The new list; this one is unchanged.

        Raises:
            DocumentInvalidError: the revocation is after ``now`` or its id is malformed.
        """
        if self.revoked(revocation.certificate_id) is not None:
            return RevocationList(issuer=self.issuer, issued_at=now, revocations=self.revocations)
        return RevocationList(issuer=self.issuer, issued_at=now, revocations=(*self.revocations, revocation))

    def to_json(self) -> dict[str, Any]:
        """Return the list's JSON form (the signed payload)."""
        return {
            "type": _REVOCATIONS_TYPE,
            "version": _FORMAT_VERSION,
            "issuer": self.issuer,
            "issued_at": timestamp(self.issued_at),
            "revocations": [revocation.to_json() for revocation in self.revocations],
        }

    @classmethod
    def from_json(cls, document: object) -> RevocationList:
        """Read a revocation list's JSON form (the payload).

        Raises:
            DocumentInvalidError: it is not a valid list (kind ``erasure-revocations``; JSON paths).
        """
        problems = [
            DocumentProblem(path=path, message=message)
            for path, message in _definition_problems("revocation_list", document)
        ]
        if problems or not isinstance(document, Mapping):
            raise DocumentInvalidError(kind="erasure-revocations", source="<memory>", problems=problems)
        issued_at = _parse_time(document["issued_at"], "$.issued_at", problems)
        revocations = [
            Revocation(
                certificate_id=entry["certificate_id"],
                reason=entry["reason"],
                revoked_at=_parse_time(
                    entry["revoked_at"], json_path("revocations", index, "revoked_at"), problems
                ),
            )
            for index, entry in enumerate(document["revocations"])
        ]
        if problems:
            raise DocumentInvalidError(kind="erasure-revocations", source="<memory>", problems=problems)
        return cls(issuer=document["issuer"], issued_at=issued_at, revocations=revocations)


@cache
def _definition_validator(definition: str) -> Validator:
    schema = {"$ref": f"urn:tradein-sdk:schemas:erasure-certificate#/$defs/{definition}"}
    return validator("erasure-certificate").evolve(schema=schema)


def _definition_problems(definition: str, document: object) -> list[tuple[str, str]]:
    errors = _definition_validator(definition).iter_errors(document)  # type: ignore[arg-type]  # any JSON value
    ordered = sorted(errors, key=lambda error: [(isinstance(p, str), p) for p in error.absolute_path])
    return [(error.json_path, error.message) for error in ordered]


def sign_revocations(revocations: RevocationList, keys: SigningKeys) -> dict[str, Any]:
    """Sign a revocation list (purpose ``erasure-revocations``) for publishing beside the JWKS.

    Args:
        revocations: the list.
        keys: the signing ring; its active key signs.

    Returns:
        The signed envelope.
    """
    return sign_document(revocations.to_json(), keys, purpose=REVOCATIONS_PURPOSE)


def verify_revocations(
    document: Mapping[str, Any] | str | bytes, jwks: PublicKeys | Mapping[str, Any] | str | bytes
) -> RevocationList:
    """Verify a signed revocation list offline and read it.

    Args:
        document: the signed envelope, decoded or as JSON text.
        jwks: the published keys (a :class:`PublicKeys` or a JWKS document).

    Returns:
        The revocation list.

    Raises:
        SignatureInvalidError: it does not verify (``reason`` says why).
        DocumentInvalidError: it verifies but is not a valid list, or ``jwks`` is not a JWKS.
    """
    return RevocationList.from_json(verify_document(document, jwks, purpose=REVOCATIONS_PURPOSE))


# -- verification ----------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CertificateCheck:
    """The outcome of verifying a signed certificate offline.

    Attributes:
        status: ``valid``, ``revoked`` or ``invalid``.
        certificate: the certificate when its signature and content hold (also when revoked).
        kid: the key id the document names, if any.
        reason: why it is invalid: a :class:`~tradein_sdk._errors.SignatureInvalidError` reason
            (``malformed``, ``wrong_purpose``, ``unknown_kid``, ``bad_signature``) or ``content`` (signed,
            but not a valid certificate); ``None`` otherwise.
        problems: what is wrong, each with a JSON path (``$.signature`` for the signature).
        revocation: the revocation, when revoked.
        error: the typed error :meth:`require` raises for an invalid certificate.
    """

    status: CertificateStatus
    certificate: ErasureCertificate | None = None
    kid: str | None = None
    reason: str | None = None
    problems: tuple[DocumentProblem, ...] = ()
    revocation: Revocation | None = None
    error: Exception | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the certificate is valid: signed by a published key, well-formed and not revoked."""
        return self.status is CertificateStatus.VALID

    def require(self) -> ErasureCertificate:
        """Return the certificate if it is valid, else raise why not.

        Returns:
            The certificate.

        Raises:
            SignatureInvalidError: the signature does not hold (``reason`` says why).
            DocumentInvalidError: it is signed but not a valid certificate.
            CertificateRevokedError: it was revoked.
        """
        if self.status is CertificateStatus.VALID and self.certificate is not None:
            return self.certificate
        if self.revocation is not None:
            raise CertificateRevokedError(
                certificate_id=self.revocation.certificate_id,
                reason=self.revocation.reason.value,
                revoked_at=timestamp(self.revocation.revoked_at),
            )
        if isinstance(self.error, SignatureInvalidError | DocumentInvalidError):
            raise self.error
        raise DocumentInvalidError(  # pragma: no cover - every invalid check carries its error
            kind="erasure-certificate", source="<memory>", problems=self.problems
        )


def _revocation_list(
    revocations: RevocationList | Mapping[str, Any] | str | bytes | None, keys: PublicKeys
) -> RevocationList | None:
    if revocations is None or isinstance(revocations, RevocationList):
        return revocations
    return verify_revocations(revocations, keys)


def verify_certificate(
    document: Mapping[str, Any] | str | bytes,
    jwks: PublicKeys | Mapping[str, Any] | str | bytes,
    *,
    revocations: RevocationList | Mapping[str, Any] | str | bytes | None = None,
) -> CertificateCheck:
    """Verify a signed erasure certificate offline: signature, then content, then revocation.

    Args:
        document: the signed envelope, decoded or as JSON text (text is parsed strictly).
        jwks: the published keys (a :class:`PublicKeys` or the JWKS document).
        revocations: the revocation list: a :class:`RevocationList` already verified, or its signed
            document (verified here with the same keys); ``None`` to skip the revocation check.

    Returns:
        The check; never raises for a certificate that does not verify (see :meth:`CertificateCheck.require`).

    Raises:
        DocumentInvalidError: ``jwks`` is not a JWKS, or the revocation list is signed but not valid.
        SignatureInvalidError: the signed revocation list does not verify.
    """
    keys = jwks if isinstance(jwks, PublicKeys) else PublicKeys.from_jwks(jwks)
    revocation_list = _revocation_list(revocations, keys)
    if isinstance(document, str | bytes):
        with contextlib.suppress(ValueError):  # a text that does not parse is refused just below
            parsed = loads_strict(document)
            if isinstance(parsed, Mapping):
                document = parsed  # parse once
    kid = envelope_kid(document)
    try:
        payload = verify_document(document, keys, purpose=CERTIFICATE_PURPOSE)
    except SignatureInvalidError as exc:
        return CertificateCheck(
            status=CertificateStatus.INVALID,
            kid=kid,
            reason=exc.reason,
            problems=(DocumentProblem(path="$.signature", message=str(exc)),),
            error=exc,
        )
    certificate, problems = _structure_certificate(payload)
    if certificate is None:
        prefixed = tuple(
            DocumentProblem(path="$.payload" + problem.path.removeprefix("$"), message=problem.message)
            for problem in problems
        )
        return CertificateCheck(
            status=CertificateStatus.INVALID,
            kid=kid,
            reason="content",
            problems=prefixed,
            error=DocumentInvalidError(kind="erasure-certificate", source="<memory>", problems=prefixed),
        )
    revocation = revocation_list.revoked(certificate.id) if revocation_list is not None else None
    if revocation is not None:
        return CertificateCheck(
            status=CertificateStatus.REVOKED,
            certificate=certificate,
            kid=kid,
            problems=(
                DocumentProblem(
                    path="$.payload.id",
                    message=f"revoked at {timestamp(revocation.revoked_at)} ({revocation.reason.value})",
                ),
            ),
            revocation=revocation,
        )
    return CertificateCheck(status=CertificateStatus.VALID, certificate=certificate, kid=kid)


# -- bundles -------------------------------------------------------------------------------------------


def certificate_bundle(
    order_id: str, certificates: Iterable[IssuedCertificate | Mapping[str, Any]]
) -> dict[str, Any]:
    """Group the signed certificates of an order's devices into one unsigned bundle document.

    Args:
        order_id: the order.
        certificates: its issued certificates, or their signed documents.

    Returns:
        ``{"type": "erasure-certificate-bundle", "version": 1, "order_id": ..., "certificates": [...]}``.
    """
    documents = [
        certificate.to_json()
        if isinstance(certificate, IssuedCertificate)
        else json.loads(json.dumps(certificate))
        for certificate in certificates
    ]
    return {"type": _BUNDLE_TYPE, "version": _FORMAT_VERSION, "order_id": order_id, "certificates": documents}


@attrs.frozen(kw_only=True)
class CertificateBundleCheck:
    """The outcome of verifying an order's certificate bundle.

    Attributes:
        order_id: the order the bundle names.
        checks: one check per certificate, in the bundle's order.
        problems: what is wrong with the bundle itself: its shape, a certificate for another order, two
            certificates for one device.
    """

    order_id: str | None
    checks: tuple[CertificateCheck, ...] = ()
    problems: tuple[DocumentProblem, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the bundle is well-formed and every certificate in it is valid and for its order."""
        return not self.problems and all(check.ok for check in self.checks)


def verify_bundle(
    bundle: Mapping[str, Any] | str | bytes,
    jwks: PublicKeys | Mapping[str, Any] | str | bytes,
    *,
    revocations: RevocationList | Mapping[str, Any] | str | bytes | None = None,
) -> CertificateBundleCheck:
    """Verify every certificate of a bundle offline and that each is for the bundle's order, once per device.

    Args:
        bundle: the bundle document, decoded or as JSON text.
        jwks: the published keys.
        revocations: the revocation list (see :func:`verify_certificate`).

    Returns:
        The bundle's check.

    Raises:
        DocumentInvalidError: ``jwks`` is not a JWKS, or the revocation list is signed but not valid.
        SignatureInvalidError: the signed revocation list does not verify.
    """
    keys = jwks if isinstance(jwks, PublicKeys) else PublicKeys.from_jwks(jwks)
    revocation_list = _revocation_list(revocations, keys)
    if isinstance(bundle, str | bytes):
        try:
            bundle = loads_strict(bundle)
        except ValueError as exc:
            return CertificateBundleCheck(
                order_id=None, problems=(DocumentProblem(path="$", message=str(exc)),)
            )
    if (
        not isinstance(bundle, Mapping)
        or bundle.get("type") != _BUNDLE_TYPE
        or not isinstance(bundle.get("order_id"), str)
        or not isinstance(bundle.get("certificates"), list)
    ):
        return CertificateBundleCheck(
            order_id=None,
            problems=(
                DocumentProblem(
                    path="$", message=f'expected a "{_BUNDLE_TYPE}" with an order_id and certificates'
                ),
            ),
        )
    order_id: str = bundle["order_id"]
    checks = tuple(
        verify_certificate(entry, keys, revocations=revocation_list) for entry in bundle["certificates"]
    )
    problems: list[DocumentProblem] = []
    devices: dict[str, int] = {}
    for index, check in enumerate(checks):
        if check.certificate is None:
            continue
        where = json_path("certificates", index, "payload")
        if check.certificate.order_id != order_id:
            problems.append(
                DocumentProblem(path=f"{where}.order_id", message=f"is not the bundle's order {order_id}")
            )
            continue
        device = check.certificate.device_id
        if device in devices:
            problems.append(
                DocumentProblem(
                    path=f"{where}.device_id",
                    message=f"device {device} is certified twice (also at $.certificates[{devices[device]}])",
                )
            )
        devices.setdefault(device, index)
    return CertificateBundleCheck(order_id=order_id, checks=checks, problems=tuple(problems))
