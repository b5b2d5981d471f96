"""The shop's texts that a value picks: a device state, a ledger entry kind, a plan... (gettext, lazily).

A template writes a fixed text as ``{{ _("Order placed") }}``; where the text depends on a value, it writes
``{{ text("state", device.state.value) }}`` and finds it here. Each entry is marked for ``pybabel extract``
(``-k lazy_gettext -k lazy_pgettext:1c,2``), so the catalogs in ``translations/`` hold them like any other
text, and each is translated when it is shown, in the request's locale.
"""

# ruff: noqa: E501 - a text reads best on one line
from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import lazy_gettext, lazy_pgettext

if TYPE_CHECKING:
    from flask_babel.speaklater import LazyString

TEXTS: dict[str, dict[str, LazyString]] = {
    "guarantee.error": {
        "already_exercised": lazy_gettext(
            "This buy-back guarantee has been used already, or a trade-in with it is under way."
        ),
        "not_yet_exercisable": lazy_gettext("This buy-back guarantee can be used from %(day)s."),
        "expired": lazy_gettext("This buy-back guarantee has expired."),
        "device_mismatch": lazy_gettext(
            "This quote is for another device than the one the guarantee buys back."
        ),
        "new_contract_required": lazy_gettext(
            "This guarantee pays against a new contract: please ask us in a store."
        ),
        "not_eligible": lazy_gettext("This buy-back guarantee does not cover this purchase."),
        "currency": lazy_gettext("This buy-back guarantee is in another currency."),
        "other": lazy_gettext("The buy-back guarantee cannot be used as asked."),
    },
    "guarantee.reason": {
        "malformed": lazy_gettext("The file is not a signed contract."),
        "wrong_purpose": lazy_gettext("It was signed for something else than a buy-back guarantee."),
        "unknown_kid": lazy_gettext("It was not signed with a key of this shop."),
        "bad_signature": lazy_gettext("The signature does not match: the contract was changed."),
        "content": lazy_gettext("The signature is valid, but the contract cannot be read."),
    },
    "staff.action": {
        "receive": lazy_gettext("Mark received"),
        "settle": lazy_gettext("Settle"),
        "returned": lazy_gettext("Mark returned"),
        "issue_label": lazy_gettext("Issue label"),
        "cancel": lazy_gettext("Cancel"),
        "expire": lazy_gettext("Mark expired"),
        "hand_over": lazy_gettext("Mark handed over"),
        "receive_late": lazy_gettext("Accept late arrival"),
        "hold": lazy_gettext("Hold"),
        "release": lazy_gettext("Release the hold"),
        "surrender": lazy_gettext("Hand to the authorities"),
        "confirm": lazy_gettext("Confirm the quote"),
        "revise": lazy_gettext("Make the lower offer"),
        "reject_mismatch": lazy_gettext("Reject as a mismatch"),
        "accept_revision": lazy_gettext("Accept the new offer for the shopper"),
        "decline_revision": lazy_gettext("Decline the new offer for the shopper"),
        "start_return": lazy_gettext("Send back"),
        "recycle": lazy_gettext("Recycle free of charge"),
        "dispose": lazy_gettext("Dispose"),
    },
    "carbon.field": {
        "from": lazy_gettext("From"),
        "to": lazy_gettext("Until (inclusive)"),
    },
    "demo.moved": {
        "year": lazy_gettext("Demo: the shop's clock now shows %(date)s, one year later."),
        "month": lazy_gettext("Demo: the shop's clock now shows %(date)s, one month later."),
        "reset": lazy_gettext("The shop's clock is back to today, %(date)s."),
    },
    "certificate.reason": {
        "malformed": lazy_gettext("This is not a signed certificate."),
        "wrong_purpose": lazy_gettext("This document is signed, but it is not an erasure certificate."),
        "unknown_kid": lazy_gettext("It is signed with a key this shop does not publish."),
        "bad_signature": lazy_gettext(
            "The signature does not match: the certificate was changed after it was issued."
        ),
        "content": lazy_gettext("The certificate is signed, but its content is not valid."),
    },
    "certificate.verify": {
        "link": lazy_gettext("Verify a certificate"),
        "title": lazy_gettext("Verify a data erasure certificate"),
        "lead": lazy_gettext(
            "Upload the certificate file or paste its text (or the text of its QR code): we check its signature with our published keys and whether it was revoked."
        ),
        "file": lazy_gettext("Certificate file (JSON)"),
        "text": lazy_gettext("…or paste its text"),
        "submit": lazy_gettext("Verify"),
        "empty": lazy_gettext("Choose a certificate file or paste its text."),
        "not_json": lazy_gettext("This is not a certificate file: a certificate is a JSON document."),
        "too_large": lazy_gettext("This file is too large to be a certificate."),
    },
    "guarantee.verify": {
        "link": lazy_gettext("Check a contract file"),
        "title": lazy_gettext("Check a buy-back guarantee contract"),
        "lead": lazy_gettext(
            "Upload the contract file (JSON) from your order page, or paste it. It is checked against the shop's published keys, which also check it offline:"
        ),
        "file": lazy_gettext("Contract file (JSON)"),
        "text": lazy_gettext("… or paste its text"),
        "submit": lazy_gettext("Check"),
        "valid": lazy_gettext("Valid: signed by this shop, unchanged."),
        "invalid": lazy_gettext("Not valid"),
        "empty": lazy_gettext("Choose a contract file or paste its text."),
        "too_large": lazy_gettext("This file is too large to be a contract."),
        "not_json": lazy_gettext("This is not a contract file: it is not a JSON object."),
    },
    "fleet.extra_done": {
        "return": lazy_gettext("The device goes back to the company."),
        "recycle": lazy_gettext("The device will be recycled."),
    },
    "ledger.kind": {
        "trade_in_credit": lazy_gettext("Trade-in value"),
        "promotion": lazy_gettext("Promotion"),
        "revision": lazy_gettext("Revised after inspection"),
        "promotion_withdrawn": lazy_gettext(
            "Promotion withdrawn: the inspected device no longer meets its conditions"
        ),
        "not_bought": lazy_gettext("Not bought"),
        "reinstated": lazy_gettext("Purchase reinstated"),
        "installment_stopped": lazy_gettext("Bill credits stopped"),
        "payout_made": lazy_gettext("Bank transfer"),
        "discount_applied": lazy_gettext("Discount at checkout"),
        "voucher_issued": lazy_gettext("Shop voucher"),
        "installment_credited": lazy_gettext("Bill credit"),
        "clawback": lazy_gettext("Charged back"),
        "refund": lazy_gettext("Refunded"),
        "installment_due": lazy_gettext("Bill credit due"),
        "insurance_premium": lazy_gettext("Device protection premium"),
        "insurance_bundle_discount": lazy_gettext("Protection discount for trading in"),
        "clawback_tax": lazy_gettext("Tax on the charge-back"),
        "guarantee_contingent": lazy_gettext("Buy-back guarantee (contingent liability)"),
        "guarantee_released": lazy_gettext("Buy-back guarantee released"),
    },
    "state": {
        "accepted": lazy_gettext("Order placed"),
        "awaiting_shipment": lazy_gettext("Label issued"),
        "in_transit": lazy_gettext("On its way"),
        "expired": lazy_gettext("Not sent in time"),
        "cancelled": lazy_gettext("Cancelled"),
        "received": lazy_gettext("Arrived"),
        "on_hold": lazy_gettext("On hold"),
        "released": lazy_gettext("Released"),
        "inspected": lazy_gettext("Inspected"),
        "confirmed": lazy_gettext("Price confirmed"),
        "revised": lazy_gettext("New offer"),
        "mismatch": lazy_gettext("Does not match"),
        "revision_accepted": lazy_gettext("New offer accepted"),
        "revision_declined": lazy_gettext("New offer declined"),
        "surrendered": lazy_gettext("Surrendered"),
        "returning": lazy_gettext("Returning to you"),
        "returned": lazy_gettext("Returned"),
        "paid": lazy_pgettext("state", "Paid"),
        "credited": lazy_gettext("Credited"),
        "recycled": lazy_pgettext("state", "Recycled"),
        "disposed": lazy_gettext("Processed"),
    },
    "ledger.stop": {
        "contract_ended": lazy_gettext("the contract ended"),
        "device_returned": lazy_gettext("the device came back"),
    },
    "ledger.reason": {
        "inspection": lazy_gettext("inspection"),
        "checkout": lazy_gettext("at checkout"),
        "settlement": lazy_gettext("settlement"),
    },
    "guarantee.plan": {
        "buyback-24": lazy_gettext("Guaranteed buy-back"),
        "upgrade-12": lazy_gettext("Upgrade after 12 months"),
    },
    "fleet.problem": {
        "ambiguous_model": lazy_gettext("Several devices have this name: write the full model name."),
        "duplicate": lazy_gettext("Listed twice: another row has the same value."),
        "imei_model_mismatch": lazy_gettext("This IMEI belongs to another model than the row names."),
        "invalid_amount": lazy_gettext("Not an amount."),
        "invalid_answers": lazy_gettext("The condition answers cannot be read."),
        "invalid_boolean": lazy_gettext("Write yes or no."),
        "invalid_date": lazy_gettext("Not a date (31.12.2023 or 2023-12-31)."),
        "invalid_imei": lazy_gettext("Not a valid IMEI (15 digits with a matching check digit)."),
        "invalid_serial_number": lazy_gettext("Not a valid serial number."),
        "invalid_storage": lazy_gettext("Not a storage size (128 GB, 1 TB)."),
        "missing_column": lazy_gettext("The list lacks this column."),
        "missing_condition": lazy_gettext("No condition given: add one or choose a condition for such rows."),
        "missing_identifier": lazy_gettext("Neither an IMEI nor a serial number."),
        "missing_model": lazy_gettext("The model is missing."),
        "missing_storage": lazy_gettext("Which storage size? The model comes in several."),
        "storage_mismatch": lazy_gettext("The model and the storage column name different sizes."),
        "too_many_rows": lazy_gettext("The list has too many rows: split it."),
        "unknown_grade": lazy_gettext(
            "Not a condition we know (e.g. very good, good, fair, damaged, faulty)."
        ),
        "no_price": lazy_gettext("There is no price for this device yet; we quote it after inspection."),
        "unknown_model": lazy_gettext("We do not know this device."),
        "unknown_storage": lazy_gettext("The model does not come with this storage size."),
        "unreadable_file": lazy_gettext("The file cannot be read: save it as CSV or XLSX."),
    },
    "fleet.mismatch": {
        "imei_differs": lazy_gettext("Another device than listed (the IMEI differs)"),
        "model_differs": lazy_gettext("Another model than listed"),
        "variant_differs": lazy_gettext("Another storage size than listed"),
        "lock_not_removable": lazy_gettext(
            "Activation Lock or account lock still on: the device goes back to you"
        ),
        "blocklisted": lazy_gettext("Reported lost or stolen: the device cannot be bought"),
    },
    "plan": {
        "discount": lazy_gettext("Instant discount"),
        "discount_help": lazy_gettext(
            "Taken off the price today; charged back if the device is not sent or differs."
        ),
        "voucher": lazy_gettext("Shop voucher after inspection"),
        "voucher_help": lazy_gettext("A voucher for this shop once we have checked your device."),
        "payout": lazy_gettext("Bank transfer after inspection"),
        "payout_help": lazy_gettext("Paid to your account once we have checked your device."),
        "bill_credits": lazy_gettext("Monthly credit on your bill"),
        "bill_credits_help": lazy_gettext(
            "Spread over %(months)s monthly bills, starting with the first bill after we have checked your device."
        ),
    },
    "quote.kind": {
        "estimate": lazy_gettext("Estimate"),
        "guaranteed": lazy_gettext("Guaranteed"),
    },
    "label.paper": {
        "a4": lazy_gettext("A4 sheet"),
        "a6": lazy_gettext("A6 label printer"),
    },
    "fleet.state": {
        "quoted": lazy_pgettext("fleet.state", "Quoted"),
        "booked": lazy_gettext("Pickup booked"),
        "picked_up": lazy_gettext("Picked up"),
        "received": lazy_gettext("Received"),
        "settling": lazy_gettext("Being settled"),
        "settled": lazy_gettext("Settled"),
        "expired": lazy_gettext("Expired"),
    },
    "checkout.promised_how": {
        "discount": lazy_gettext("%(amount)s off the price today"),
        "voucher": lazy_gettext("as a shop voucher after inspection"),
        "payout": lazy_gettext("by bank transfer after inspection"),
        "bill_credits": lazy_gettext("as %(months)s monthly bill credits after inspection"),
    },
    "certificate.status": {
        "valid": lazy_gettext("Valid"),
        "revoked": lazy_gettext("Revoked"),
        "invalid": lazy_gettext("Invalid"),
    },
    "certificate.method": {
        "clear": lazy_gettext("Clear"),
        "purge": lazy_gettext("Purge"),
        "destruct": lazy_gettext("Destruct"),
    },
    "report_total": {
        "open_at_start": lazy_gettext("Open at start"),
        "promised": lazy_gettext("Promised"),
        "revised": lazy_gettext("Revised"),
        "paid": lazy_pgettext("report_total", "Paid"),
        "credited": lazy_gettext("Credited"),
        "clawed_back": lazy_gettext("Clawed back"),
        "open_at_end": lazy_gettext("Open at end"),
        "charges": lazy_gettext("Charges"),
        "entries": lazy_gettext("Entries"),
    },
    "report_promotion": {
        "promised": lazy_gettext("Promised"),
        "withdrawn": lazy_gettext("Withdrawn"),
        "spent_in_period": lazy_gettext("Spent in range"),
        "spent_in_all": lazy_gettext("Spent in all"),
        "budget_left": lazy_gettext("Budget left"),
    },
    "installment": {
        "credited": lazy_gettext("Credited"),
        "open": lazy_gettext("Scheduled"),
        "stopped": lazy_gettext("Stopped"),
    },
    "fleet.vat": {
        "status": lazy_gettext("VAT status"),
        "regular": lazy_gettext("VAT-registered business"),
        "small_business": lazy_gettext("Small business (no VAT charged)"),
        "margin_scheme": lazy_gettext("Margin scheme for second-hand goods"),
        "not_registered": lazy_gettext("Not registered for VAT"),
        "id": lazy_gettext("VAT ID"),
        "id_hint": lazy_gettext("With the country prefix, e.g. DE123456789."),
        "id_needed": lazy_gettext("A business needs its VAT ID for the credit note."),
    },
    "next": {
        "accepted": lazy_gettext("We are preparing your label."),
        "awaiting_shipment": lazy_gettext(
            "Print the label, pack your device and hand it over before the deadline."
        ),
        "in_transit": lazy_gettext("Your parcel is on its way to us."),
        "expired": lazy_gettext("The deadline passed before we received the device."),
        "cancelled": lazy_gettext("This trade-in is cancelled."),
        "received": lazy_gettext("It arrived; we are checking it now."),
        "on_hold": lazy_gettext("We need to clarify something."),
        "released": lazy_gettext("We are checking it now."),
        "inspected": lazy_gettext("Inspection done."),
        "confirmed": lazy_gettext("Your price is confirmed; the payment is on its way."),
        "revised": lazy_gettext(
            "We found differences. Accept the new offer or get your device back for free."
        ),
        "mismatch": lazy_gettext("The device does not match your order."),
        "revision_accepted": lazy_gettext("Thanks; the payment is on its way."),
        "revision_declined": lazy_gettext("We will send your device back."),
        "surrendered": lazy_gettext("Handed to the authorities."),
        "returning": lazy_gettext("Your device is on its way back to you, free of charge."),
        "returned": lazy_gettext("Your device was returned."),
        "paid": lazy_gettext("Paid. Thank you!"),
        "credited": lazy_gettext("Credited. Thank you!"),
        "recycled": lazy_gettext("Recycled free of charge."),
        "disposed": lazy_gettext("Done. Thank you!"),
    },
    "staff.actor": {
        "shopper": lazy_gettext("shopper"),
        "staff": lazy_gettext("staff"),
        "provider": lazy_gettext("carrier"),
        "system": lazy_gettext("system"),
    },
    "actor": {
        "shopper": lazy_gettext("you"),
        "staff": lazy_gettext("our team"),
        "provider": lazy_gettext("carrier"),
        "system": lazy_gettext("automatic"),
    },
    "fleet.extra_decide": {
        "return": lazy_gettext("Return"),
        "recycle": lazy_gettext("Recycle"),
    },
    "staff.hold_reason": {
        "blocklist": lazy_gettext("Reported lost or stolen (blocklist)"),
        "police_request": lazy_gettext("Police request"),
        "ownership_check": lazy_gettext("Ownership check"),
    },
    "staff.disposition": {
        "refurbish": lazy_gettext("Refurbish"),
        "parts": lazy_gettext("Parts"),
        "recycle": lazy_gettext("Recycle"),
    },
    "erasure.technique": {
        "cryptographic_erase": lazy_gettext("Cryptographic erase"),
        "factory_reset": lazy_gettext("Factory reset"),
        "physical_destruction": lazy_gettext("Physical destruction"),
    },
    "erasure.verification": {
        "method": lazy_gettext("Verified by"),
        "crypto_key_destruction": lazy_gettext("Key destruction confirmed"),
        "tool_report": lazy_gettext("Tool report"),
        "sampling": lazy_gettext("Sample read-back"),
        "full": lazy_gettext("Full read-back"),
        "result": lazy_gettext("Verification result"),
    },
    "erasure.destination": {
        "resale": lazy_gettext("Resale"),
        "parts": lazy_gettext("Parts"),
        "recycling": lazy_gettext("Recycling"),
    },
    "balance": {
        "promised": lazy_gettext("Promised"),
        "owed": lazy_gettext("Owed"),
        "revised": lazy_gettext("Revised"),
        "paid": lazy_pgettext("balance", "Paid"),
        "credited": lazy_gettext("Credited"),
        "clawed_back": lazy_gettext("Clawed back"),
        "open": lazy_pgettext("balance", "Open"),
        "scheduled": lazy_gettext("Scheduled"),
        "charges": lazy_gettext("Charges"),
        "clawback_tax": lazy_gettext("Clawback tax"),
        "contingent": lazy_gettext("Contingent"),
    },
    "fleet.line": {
        "expected": lazy_gettext("Expected"),
        "received": lazy_gettext("In the boxes"),
        "missing": lazy_gettext("Not in the boxes"),
    },
    "fleet.extra": {
        "pending": lazy_gettext("To be decided"),
        "return": lazy_gettext("Goes back to you"),
        "recycle": lazy_pgettext("fleet.extra", "Recycled"),
        "decide_return": lazy_gettext("Return"),
        "decide_recycle": lazy_gettext("Recycle"),
        "done_return": lazy_gettext("The device goes back to the company."),
        "done_recycle": lazy_gettext("The device will be recycled."),
    },
    "fleet.doc": {
        "credit_note_pdf": lazy_gettext("Credit note (PDF)"),
        "credit_note_xml": lazy_gettext("E-invoice (XML)"),
        "purchase_statement_pdf": lazy_gettext("Purchase statement (PDF)"),
        "handover_record": lazy_gettext("Hand-over record (signed)"),
        "certificates": lazy_gettext("Erasure certificates (JSON)"),
    },
    "fleet.report": {
        "csv": lazy_gettext("Report (CSV)"),
        "xlsx": lazy_gettext("Report (Excel)"),
        "pdf": lazy_gettext("Report (PDF)"),
        "json": lazy_gettext("Report (JSON)"),
    },
    "guarantee.band_share": {
        "price": lazy_gettext("%(share)s%% of %(basis)s"),
        "financed": lazy_gettext("%(share)s%% of the %(basis)s financed"),
    },
    "guarantee.status": {
        "open": lazy_pgettext("guarantee", "Open"),
        "in_progress": lazy_gettext("Being traded in"),
        "exercised": lazy_gettext("Exercised"),
        "lapsed": lazy_gettext("Lapsed"),
    },
    "fleet.next": {
        "quoted": lazy_gettext("Book the pickup to send the devices."),
        "booked": lazy_gettext("Please have the sealed boxes ready on the pickup day."),
        "picked_up": lazy_gettext("The boxes are on their way to our warehouse."),
        "received": lazy_gettext(
            "We are inspecting the devices; the credit note follows once every device is decided."
        ),
        "settling": lazy_gettext(
            "The settlement has begun: the devices are being paid and the credit note issued."
        ),
        "settled": lazy_gettext("Settled: the credit note and the payment are on their way."),
        "expired": lazy_gettext("This quote expired before a pickup was booked."),
    },
    "guarantee.basis": {
        "guaranteed": lazy_gettext("The guaranteed amount: your device as described meets the condition."),
        "fallback": lazy_gettext("The fallback amount: your device as described is below the condition."),
        "market": lazy_gettext("Today's market price: it is higher than what the guarantee gives."),
    },
    "guarantee.payout": {
        "heading": lazy_gettext("How we pay you"),
        "voucher": lazy_gettext("Shop voucher"),
        "bank": lazy_gettext("Bank transfer"),
    },
    "customer_case": {
        "new_contract": lazy_gettext("New contract"),
        "new_contract_help": lazy_gettext("You take out a new mobile contract with this device."),
        "upgrade": lazy_gettext("Contract upgrade"),
        "upgrade_help": lazy_gettext("You renew your existing mobile contract and get this device with it."),
        "none": lazy_gettext("No contract"),
        "none_help": lazy_gettext("You buy the device outright, without a mobile contract."),
    },
    "customer_case.phrase": {
        "new_contract": lazy_gettext("a new contract"),
        "upgrade": lazy_gettext("a contract upgrade"),
        "none": lazy_gettext("a purchase without a contract"),
    },
    "hint.battery_health": {
        "smartphone.ios": lazy_gettext(
            "Shown under Settings › Battery › Battery Health on the iPhone. Leave it empty if your iPhone does not show it."
        ),
        "smartphone.samsung": lazy_gettext(
            "On a Samsung Galaxy, look under Settings › Battery › Battery information. Leave it empty if your phone does not show it."
        ),
        "smartphone.android": lazy_gettext(
            "Many Android phones show it in the battery settings (Settings › Battery › Battery health). Leave it empty if your phone does not show it."
        ),
        "smartwatch.samsung": lazy_gettext(
            "Few Galaxy and Wear OS watches show it. Leave it empty if your watch does not show it."
        ),
        "smartwatch.wearos": lazy_gettext(
            "Few Galaxy and Wear OS watches show it. Leave it empty if your watch does not show it."
        ),
    },
    "recycle.fix": {
        "activation_lock_on": lazy_gettext(
            "Turn off Find My (Activation Lock) on the device, then get a new quote: then we can pay for it."
        ),
        "google_frp_on": lazy_gettext(
            "Remove the Google account from the device, then get a new quote: then we can pay for it."
        ),
        "samsung_account_on": lazy_gettext(
            "Remove the Samsung account from the device, then get a new quote: then we can pay for it."
        ),
    },
    "mismatch.reason": {
        "imei_differs": lazy_gettext(
            "The device we received is not the one in your order: its IMEI differs."
        ),
        "model_differs": lazy_gettext("We received another model than the one in your order."),
        "variant_differs": lazy_gettext("We received another storage size than the one in your order."),
        "lock_not_removable": lazy_gettext(
            "Activation Lock or an account lock is still on, so we cannot buy the device."
        ),
        "blocklisted": lazy_gettext("The device is reported lost or stolen, so we cannot buy it."),
    },
    "mismatch.next": {
        "return": lazy_gettext(
            "We will send the device back to you free of charge. If you prefer, we recycle it for free instead."
        ),
        "lock": lazy_gettext("Once it is back with you, turn the lock off and get a new quote."),
        "blocklisted": lazy_gettext(
            "We cannot send it back until this is cleared up. If the device is yours, please bring your proof of purchase to our store and give your order reference %(reference)s."
        ),
    },
}
"""Texts by group and value: ``TEXTS["state"]["paid"]``."""


def has_text(group: str, name: str) -> bool:
    """Whether the shop has a text for ``name`` in ``group`` (else the caller shows the library's own)."""
    return name in TEXTS.get(group, {})


def text(group: str, name: str, **params: object) -> str:
    """The text for ``name`` in ``group``, in the request's language, with ``%(param)s`` filled in.

    Raises:
        KeyError: the shop has no such text (a value added to the library but not to the shop).
    """
    try:
        message = TEXTS[group][name]
    except KeyError:
        raise KeyError(f"the shop has no text {name!r} in {group!r}") from None
    return str(message) % params
