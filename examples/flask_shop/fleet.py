"""The company portal's shop-side pieces: the demo company, its contract, asset-list uploads and labels.

A company (a firm returning its employees' phones) trades its fleet in through ``/company/`` (see
:mod:`.views.company`); staff handle the batches at ``/staff/fleet/`` (:mod:`.views.staff_fleet`). What the
library does not decide lives here:

- the **demo company** (Muster Logistik GmbH, a regular VAT seller with a framework contract 5 % above the
  shop's prices and a self-billing agreement) that :mod:`.seed` opens once, and the contract a company opened
  in the portal gets;
- which companies a session may act for (the demo's, and those it opened or chose: a real shop has its own
  sign-in for business customers);
- the **asset list** a company uploads: kept in the data folder between the check and the quote (like the
  session secret, every worker reads the same folder), under a random token the session remembers;
- the **sample list** the portal offers, generated from the catalog in the page's language;
- the human labels of the library's codes: import problems, grades, inspection reasons.
"""

from __future__ import annotations

import re
import secrets
import time
from decimal import Decimal
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Final

from flask import current_app, session
from flask_babel import gettext

from tradein_sdk import Address, DeviceNotFoundError, FrameworkContract, Money, SelfBillingAgreement
from tradein_sdk._domain.fleet_import import GRADES, WHOLE_ROW

from .extension import current_locale, shop
from .questionnaire import questions
from .texts import has_text, text

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from tradein_sdk import BatchLineView, Catalog, Company, ImportProblem, TradeIn

DEMO_CONTRACT_REFERENCE: Final = "RV-DEMO-2026"
"""The framework contract of the demo company (the portal offers the company with this contract to all)."""
DEMO_COMPANY: Final = {
    "legal_name": "Muster Logistik GmbH",
    "street": "Lagerweg 4",
    "postcode": "20095",
    "city": "Hamburg",
    "country": "DE",
    "vat_id": "DE136695976",
}
"""The demo company's account data."""
DEMO_CONTACT: Final = {"name": "Erika Mustermann", "email": "it@muster.example", "phone": "+49 40 1234567"}
"""The demo company's IT contact."""
SELF_BILLING_VERSION: Final = "2026-01"
"""The version of the shop's self-billing agreement (§ 14 Abs. 2 UStG) a company accepts."""
PRICE_FACTOR: Final = Decimal("1.05")
"""The framework contract's factor on the shop's prices (5 % above)."""
VAT_STATUSES: Final = ("regular", "small_business", "margin_scheme", "not_registered")
"""How a company may sell for VAT (each has its text ``fleet.vat_<status>``)."""
MAX_ASSET_BYTES: Final = 5 * 1024 * 1024
"""The largest asset list the portal takes (about 50,000 rows of CSV)."""
UPLOAD_FOLDER: Final = "fleet-uploads"
"""Where uploaded asset lists wait between the check and the quote (in the data folder)."""
UPLOAD_LIFETIME_S: Final = 24 * 3600
"""An upload older than this is deleted with the next upload."""
STAFF_CHECKS: Final = {
    "liquid_indicator": "not_triggered",
    "blocklist_status": "clear",
    "authenticity": "genuine",
}
"""The staff checks of an inspection as passed (a company's list cannot answer them)."""
LOCK_QUESTIONS: Final = ("find_my_off", "google_account_removed", "samsung_account_removed")
"""The questions that say a device's lock (Activation Lock, Google or Samsung account) was released."""
SAMPLE_VARIANTS: Final = (
    "apple-iphone-13-128gb",
    "samsung-galaxy-s22-128gb",
    "google-pixel-7-128gb",
    "apple-iphone-12-128gb",
)
"""The devices of the sample asset list (those the catalog has; else its first smartphones)."""
SAMPLE_ROWS: Final = 8
_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{20,64}")
_SUFFIXES: Final = {".csv": ".csv", ".txt": ".csv", ".tsv": ".csv", ".xlsx": ".xlsx", ".xlsm": ".xlsx"}


# -- contracts and the demo company ------------------------------------------------------------------------


def shop_contract(reference: str, *, now: datetime, self_billing: bool = True) -> FrameworkContract:
    """The framework contract the shop offers: 5 % above its prices, 21 days, pickup in 3 working days."""
    return FrameworkContract(
        reference=reference,
        price_factor=PRICE_FACTOR,
        quote_validity_days=21,
        pickup_days=3,
        payment_days=10,
        holiday_country="DE",
        holiday_subdivision="BE",
        self_billing=SelfBillingAgreement(version=SELF_BILLING_VERSION, accepted_at=now)
        if self_billing
        else None,
    )


def open_demo_company(trade_in: TradeIn) -> Company:
    """Open the demo company's account (Muster Logistik GmbH under the demo contract)."""
    return trade_in.open_company(
        DEMO_COMPANY["legal_name"],
        Address(
            street=DEMO_COMPANY["street"],
            postcode=DEMO_COMPANY["postcode"],
            city=DEMO_COMPANY["city"],
            country=DEMO_COMPANY["country"],
        ),
        vat_status="regular",
        vat_id=DEMO_COMPANY["vat_id"],
        contract=shop_contract(DEMO_CONTRACT_REFERENCE, now=trade_in.clock.now()),
        contacts=[DEMO_CONTACT],
    )


def is_demo(company: Company) -> bool:
    """Whether the company is the demo's (offered to every visitor)."""
    return company.contract.reference == DEMO_CONTRACT_REFERENCE


# -- the companies a session acts for -----------------------------------------------------------------------


def chosen_company_id() -> str | None:
    """The company this session acts for now, or ``None``."""
    chosen = session.get("company")
    return chosen if isinstance(chosen, str) else None


def remember_company(company_id: str) -> None:
    """Act for ``company_id`` from now on (and keep offering it to this session)."""
    known = [known for known in session.get("companies", []) if known != company_id]
    session["companies"] = [*known, company_id][-10:]
    session["company"] = company_id


def offered_companies(trade_in: TradeIn) -> list[Company]:
    """The companies this session may choose: the demo's and those it opened or chose before."""
    known = set(session.get("companies", []))
    return [company for company in trade_in.companies() if is_demo(company) or company.id in known]


def may_act_for(company: Company) -> bool:
    """Whether this session may see and act for the company (its own, the demo's, or staff)."""
    return bool(session.get("staff")) or is_demo(company) or company.id in session.get("companies", [])


# -- uploaded asset lists ------------------------------------------------------------------------------------


def _upload_folder() -> Path:
    folder = Path(current_app.config["TRADEIN_DATA_DIR"] or current_app.instance_path) / UPLOAD_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _upload_path(token: str) -> Path | None:
    if not _TOKEN.fullmatch(token):
        return None
    return next(iter(sorted(_upload_folder().glob(f"{token}.*"))), None)


def keep_upload(data: bytes, filename: str) -> str:
    """Keep an uploaded list until it is quoted; returns its token (older uploads are cleared)."""
    folder = _upload_folder()
    cutoff = time.time() - UPLOAD_LIFETIME_S
    for old in folder.iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    suffix = _SUFFIXES.get(PurePath(filename).suffix.lower(), "")
    (folder / f"{token}{suffix or '.bin'}").write_bytes(data)
    return token


def read_upload(token: str) -> tuple[bytes, str] | None:
    """The bytes of a kept upload and the name the library reads its format from, or ``None``."""
    path = _upload_path(token)
    if path is None:
        return None
    return path.read_bytes(), ("assets" + path.suffix if path.suffix != ".bin" else "assets")


def drop_upload(token: str) -> None:
    """Delete a kept upload (once quoted)."""
    path = _upload_path(token)
    if path is not None:
        path.unlink(missing_ok=True)


# -- the sample list -----------------------------------------------------------------------------------------

_HEADERS: Final = {
    "de": ("IMEI", "Modell", "Inventarnummer", "Kostenstelle", "Sperre aufgehoben", "Zustand"),
    "en": ("IMEI", "Model", "Asset tag", "Cost centre", "Lock released", "Grade"),
}
_SAMPLE_GRADES: Final = {
    "de": ("sehr gut", "gut", "befriedigend", "gut"),
    "en": ("excellent", "good", "fair", "good"),
}
_YES: Final = {"de": "ja", "en": "yes"}


def _luhn_digit(body: str) -> str:
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str(-total % 10)


def _sample_imei(catalog: Catalog, model_id: str, tac_prefixes: Iterable[str], serial: int) -> str:
    """A valid IMEI for the model: its own TAC when the catalog lists one that leads back to it."""
    for prefix in (*tac_prefixes, "99"):
        tac = (prefix + "0" * 8)[:8] if prefix != "99" else f"99{serial:06d}"
        body = f"{tac}{serial:06d}"
        imei = body + _luhn_digit(body)
        try:
            if catalog.model_for_imei(imei).id == model_id:
                return imei
        except DeviceNotFoundError:
            if prefix == "99":
                return imei
    return imei


def sample_csv(catalog: Catalog, locale: str) -> bytes:
    """An asset list to start from: devices of the catalog, as a spreadsheet program writes it.

    German pages get German Excel's CSV (semicolons, German headers and condition words); others the English
    form with commas. The library reads both.
    """
    language = "de" if locale.startswith("de") else "en"
    variants = []
    for variant_id in SAMPLE_VARIANTS:
        try:
            entry = catalog.lookup(variant_id)
        except DeviceNotFoundError:
            continue
        variants.append((entry.model, entry.variant or entry.model.variants[0]))
    if not variants:
        variants = [
            (model, model.variants[0]) for model in catalog.models if model.category.value == "smartphone"
        ][:4]
    separator = ";" if language == "de" else ","
    lines = [separator.join(_HEADERS[language])]
    for index in range(SAMPLE_ROWS):
        model, variant = variants[index % len(variants)]
        lines.append(
            separator.join(
                (
                    _sample_imei(catalog, model.id, model.tac_prefixes, 100 + index),
                    f"{model.display_name} {variant.storage_label}",
                    f"INV-{index + 1:04d}",
                    "4711" if index < SAMPLE_ROWS // 2 else "4712",
                    _YES[language],
                    _SAMPLE_GRADES[language][index % 4],
                )
            )
        )
    text = "\r\n".join(lines) + "\r\n"
    return ("\ufeff" + text).encode() if language == "de" else text.encode()


# -- labels --------------------------------------------------------------------------------------------------


def problem_text(problem: ImportProblem) -> str:
    """What is wrong with a cell, in the page's language (the library's English text for a code not known)."""
    return text("fleet.problem", problem.code) if has_text("fleet.problem", problem.code) else problem.message


def column_text(problem: ImportProblem) -> str:
    """The column a problem names, as the file writes it (or "whole row")."""
    return gettext("whole row") if problem.column == WHOLE_ROW else problem.column


def grade_labels(category: str = "smartphone") -> dict[str, str]:
    """The pricing grades' names in the page's language (the questionnaire's own texts)."""
    rendered = shop().trade_in.render_questionnaire(category, current_locale())
    labels = {grade.id: grade.text for grade in rendered.pricing_grades}
    return {grade: labels.get(grade, grade) for grade in GRADES}


def line_reasons(view: BatchLineView, inspection: Any) -> list[str]:  # noqa: ANN401 - an InspectionResult
    """Why inspection changed a line's amount: each question that differed with its amount, each mismatch."""
    if inspection is None:
        return []
    locale = current_locale()
    entry = shop().trade_in.catalog.lookup(view.line.variant_id)
    rendered = shop().trade_in.render_questionnaire(entry.model.category.value, locale, staff=True)
    texts = {question.id: question.text for question in questions(rendered)}
    currency = view.line.amount.currency
    reasons = [
        gettext(
            "%(question)s: %(amount)s",
            question=texts.get(question, question),
            amount=Money(Decimal(impact), currency).format(locale),
        )
        for question, impact in inspection.impacts.items()
        if Decimal(impact) != 0
    ]
    reasons.extend(text("fleet.mismatch", reason.value) for reason in inspection.mismatch)
    return reasons
