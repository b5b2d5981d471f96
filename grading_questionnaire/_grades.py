"""The grading dimensions and the other small vocabularies of the questionnaire.

Every dimension is ordered from best to worst, and a grading rule can only make a dimension worse:

* cosmetic grade ``A`` (like new) to ``D`` (heavy wear, cracked glass), CTIA-style;
* functional grade ``0`` (fully functional) to ``9`` (does not power on), CTIA-style;
* lock status ``none`` < ``carrier_locked`` < ``account_locked`` < ``blocklisted``;
* battery state ``good`` < ``degraded`` < ``unknown`` < ``swollen`` (a battery that could not be tested,
  because the device does not start, is priced like one that needs replacing);
* liquid damage ``none`` < ``suspected`` (contact reported) < ``confirmed`` (indicator tripped, corrosion).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

import attrs


class _Ordered(StrEnum):
    """A vocabulary whose members run from best to worst."""

    @property
    def rank(self) -> int:
        """The member's position, 0 for the best; a higher rank is worse."""
        return tuple(type(self)).index(self)

    @classmethod
    def at_rank(cls, rank: int) -> Self:
        """Return the member at ``rank`` (0 is the best)."""
        return tuple(cls)[rank]


class CosmeticGrade(_Ordered):
    """How the device looks, from ``A`` (like new) to ``D`` (heavy damage, cracked glass)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class LockStatus(_Ordered):
    """What keeps the device from being used by someone else, from best to worst."""

    NONE = "none"
    CARRIER_LOCKED = "carrier_locked"
    ACCOUNT_LOCKED = "account_locked"
    """Find My / Activation Lock, Google FRP or a Samsung account is still on."""
    BLOCKLISTED = "blocklisted"
    """Reported lost or stolen on a device blocklist."""


class BatteryState(_Ordered):
    """The battery's condition, from best to worst."""

    GOOD = "good"
    DEGRADED = "degraded"
    UNKNOWN = "unknown"
    """Could not be tested (the device does not start); priced like a battery that needs replacing."""
    SWOLLEN = "swollen"


class LiquidDamage(_Ordered):
    """Whether the device met liquid, from best to worst."""

    NONE = "none"
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"


class VerificationDepth(_Ordered):
    """Who established an answer, from the weakest to the strongest evidence.

    (As an ordered vocabulary its ``rank`` grows with strength: ``measured`` is the strongest.)
    """

    SELF_DECLARED = "self_declared"
    """Declared by the shopper online."""
    STAFF_VERIFIED = "staff_verified"
    """Checked by a store employee or an inspector with the device in hand."""
    MEASURED = "measured"
    """Measured by an automated diagnostics tool."""


class Acceptance(StrEnum):
    """Whether the device can get a price."""

    PRICED = "priced"
    RECYCLE_ONLY = "recycle_only"
    """A knockout applies: no price, but free recycling is still offered."""


class Audience(StrEnum):
    """Who answers the questionnaire, and so which questions are shown."""

    SHOPPER = "shopper"
    """The shopper, online: staff-only checks (blocklist, authenticity, ...) are left out."""
    STAFF = "staff"
    """A store employee, an inspector or a diagnostics tool: every question."""


class QuestionKind(StrEnum):
    """The kind of answer a question takes."""

    YES_NO = "yes_no"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    NUMBER = "number"


class Worse(StrEnum):
    """Which way an answer means more damage (``None`` on a question that does not grade)."""

    YES = "yes"
    NO = "no"
    LATER = "later"
    """Single choice: options are listed best to worst."""
    MORE = "more"
    """Multiple choice: each selected option is a defect."""
    FEWER = "fewer"
    """Multiple choice: each selected option is something good (an accessory included)."""
    LOWER = "lower"
    HIGHER = "higher"


DIMENSIONS = ("cosmetic", "functional", "lock", "battery", "liquid")
"""The grading dimensions, in the order reports and tables list them."""

_SCALES: dict[str, tuple[Any, ...]] = {
    "cosmetic": tuple(CosmeticGrade),
    "functional": tuple(range(10)),
    "lock": tuple(LockStatus),
    "battery": tuple(BatteryState),
    "liquid": tuple(LiquidDamage),
}


@attrs.frozen(kw_only=True)
class DimensionValues:
    """Values on some of the grading dimensions (a rule's effects, a pricing grade's limits).

    Attributes:
        cosmetic: a cosmetic grade, or ``None`` when not named.
        functional: a functional grade 0-9, or ``None``.
        lock: a lock status, or ``None``.
        battery: a battery state, or ``None``.
        liquid: a liquid-damage level, or ``None``.
    """

    cosmetic: CosmeticGrade | None = None
    functional: int | None = None
    lock: LockStatus | None = None
    battery: BatteryState | None = None
    liquid: LiquidDamage | None = None

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Self:
        """Build the values from their JSON form (already valid against the schema)."""
        return cls(
            cosmetic=CosmeticGrade(document["cosmetic"]) if "cosmetic" in document else None,
            functional=document.get("functional"),
            lock=LockStatus(document["lock"]) if "lock" in document else None,
            battery=BatteryState(document["battery"]) if "battery" in document else None,
            liquid=LiquidDamage(document["liquid"]) if "liquid" in document else None,
        )

    def to_json(self) -> dict[str, str | int]:
        """Return the JSON form: only the dimensions named."""
        values = {name: getattr(self, name) for name in DIMENSIONS}
        return {name: value for name, value in values.items() if value is not None}

    def ranks(self, missing: int) -> tuple[int, ...]:
        """Return each dimension's rank (its position on its scale), ``missing`` where not named."""
        return tuple(
            missing if (value := getattr(self, name)) is None else _SCALES[name].index(value)
            for name in DIMENSIONS
        )


def scale_value(dimension: str, rank: int) -> Any:  # noqa: ANN401 - the dimension decides the type
    """Return the value at ``rank`` on ``dimension``'s scale."""
    return _SCALES[dimension][rank]
