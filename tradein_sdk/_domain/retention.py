"""How long records are kept: the retention classes of § 147(3) AO and § 14b UStG (as amended from 2025).

- **books** (10 years): books, records (*Aufzeichnungen*), inventories, annual accounts, and the documents
  needed to understand them: the audit log, the ledger, orders;
- **vouchers** (8 years): *Buchungsbelege*, invoices and receipts, self-billing credit notes, erasure
  certificates handed to customers;
- **letters** (6 years): commercial letters sent and received: webhooks, notifications.

A period runs from the end of the calendar year in which the record was made, so a record of 2026 kept for 10
years may be deleted from 1 January 2037. Erasure that a data subject asks for (GDPR Art. 17) becomes a
restriction of processing for records still under retention (§ 35(3) BDSG): the library keeps personal
data apart from records, so records need no personal data to be kept.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum


class RetentionClass(StrEnum):
    """A retention class and its period in years (:attr:`years`)."""

    BOOKS = "books"
    VOUCHERS = "vouchers"
    LETTERS = "letters"

    @property
    def years(self) -> int:
        """How many years after the end of the record's calendar year it is kept."""
        return _YEARS[self]


_YEARS = {RetentionClass.BOOKS: 10, RetentionClass.VOUCHERS: 8, RetentionClass.LETTERS: 6}

_BY_ACTION_PREFIX = (
    ("receipt.", RetentionClass.VOUCHERS),
    ("credit_note.", RetentionClass.VOUCHERS),
    ("certificate.", RetentionClass.VOUCHERS),
    ("webhook.", RetentionClass.LETTERS),
)


def retention_of(action: str) -> RetentionClass:
    """The retention class of an audited record by its action (``order.shipped``).

    Books, unless it is a voucher (receipts, credit notes, certificates) or a letter (webhooks).
    """
    for prefix, retention in _BY_ACTION_PREFIX:
        if action.startswith(prefix):
            return retention
    return RetentionClass.BOOKS


def retained_until(made: date | datetime, retention: RetentionClass) -> date:
    """The last day a record made on ``made`` must be kept: 31 December of its year plus the period."""
    return date(made.year + retention.years, 12, 31)
