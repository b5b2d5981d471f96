"""An order's human reference: one short form for every screen, e-mail and label, leading back to the order.

An order id the library makes is ``ord_`` and 20 hexadecimal digits (80 random bits). Its reference writes the
same 80 bits as 16 characters of Crockford's base 32 (digits and capitals without ``I``, ``L``, ``O`` and
``U``, so nothing reads as something else) in four groups after ``TI``::

    ord_3f9a0c1b77d011abc3e4  →  TI-7YD0-R6VQ-T08T-QGZ4

It is stable (the same id always gives the same reference), unique (two ids never share one) and exact (read
back with :func:`order_id_from_reference`, which also takes it in lower case, without or with other
separators, and with ``O``, ``I`` or ``L`` typed for ``0`` and ``1``). An id of another form keeps the
form labels printed before (``ORD-1`` for ``ord_1``), which :func:`order_id_from_reference` reads back too.
"""

from __future__ import annotations

import re
from typing import Final

PREFIX: Final = "TI"
"""What every reference of an order id the library made starts with."""

_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ALIASES: Final = str.maketrans({"O": "0", "I": "1", "L": "1"})
_LIBRARY_ID: Final = re.compile(r"ord_[0-9a-f]{20}")
_BITS: Final = 80
_GROUP: Final = 4
_SEPARATORS: Final = re.compile(r"[\s\-_./]+")


def order_reference(order_id: str) -> str:
    """The reference a shopper, a carrier and staff see for an order: ``TI-7YD0-R6VQ-T08T-QGZ4``.

    Args:
        order_id: the order's id (``ord_3f9a0c1b77d011abc3e4``).

    Returns:
        ``TI`` and the id's 80 bits in four groups of four base-32 characters; for an id the library did not
        make, the id in capitals with ``-`` for ``_`` (``ORD-1``), as labels printed it before.
    """
    if _LIBRARY_ID.fullmatch(order_id) is None:
        return order_id.upper().replace("_", "-")
    number = int(order_id.removeprefix("ord_"), 16)
    digits = "".join(_ALPHABET[(number >> shift) & 31] for shift in range(_BITS - 5, -1, -5))
    groups = [digits[start : start + _GROUP] for start in range(0, len(digits), _GROUP)]
    return "-".join((PREFIX, *groups))


def order_id_from_reference(reference: str) -> str:
    """The order id a reference stands for: the inverse of :func:`order_reference`.

    A reference is read as people type it: in any case, with spaces or other separators between the groups
    (or none), ``O`` for ``0`` and ``I`` or ``L`` for ``1``. A reference of the earlier form (``ORD-1``) gives
    the id it was made of (``ord_1``).

    Args:
        reference: the reference as printed, read out or typed.

    Returns:
        The order id (whether such an order exists is the store's to say).
    """
    compact = _SEPARATORS.sub("", reference).upper()
    digits = compact.removeprefix(PREFIX).translate(_ALIASES)
    if compact.startswith(PREFIX) and len(digits) == _BITS // 5 and all(c in _ALPHABET for c in digits):
        number = 0
        for character in digits:
            number = number << 5 | _ALPHABET.index(character)
        return f"ord_{number:0{_BITS // 4}x}"
    return reference.strip().lower().replace("-", "_")
