"""The OpenAPI 3.1 document of the trade-in service, generated from the operations and the JSON Schemas.

``schemas/openapi.json`` is this module's output (``scripts/openapi.py`` writes it; a test fails when it
is stale), and the service sends it at ``GET /v1/openapi.json``. It is self-contained:

* the library's JSON Schemas (``schemas/*.schema.json``) are embedded under ``components/schemas`` by
  their short name (``quote``, ``common``), their ``$id`` removed and every ``$ref`` rewritten to point
  inside the document (``urn:tradein-sdk:schemas:common#/$defs/money`` →
  ``#/components/schemas/common/$defs/money``);
* the request bodies and the results that have no schema file of their own are described from their attrs
  classes (field names, types, which fields are required, the constraints of their metadata), under their
  class names, so the document says exactly what the JSON converter writes and reads;
* the results with a JSON form of their own (:class:`~.api.Form`: the ledger, the ledger report) are
  described by :data:`_FORMS`, under the form's name.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final

import attrs

from grading_questionnaire import ConditionReport, RenderedQuestionnaire
from grading_questionnaire._resources import shared_dir
from tradein_sdk._domain.converters import _is_param
from tradein_sdk._domain.guarantees import InflowStatus, PlanKind
from tradein_sdk._domain.ledger import EntryGroup, EntryKind
from tradein_sdk._domain.ledger_report import CurrencyTotals, PromotionSpend
from tradein_sdk._domain.money import Money
from tradein_sdk._domain.quotes import Quote
from tradein_sdk._domain.search import SearchResults
from tradein_sdk._domain.tenancy import Role
from tradein_sdk._remote.api import (
    FIELD_CONSTRAINTS,
    PROBLEM_CONTENT_TYPE,
    Form,
    Operation,
    Payout,
    operations,
    query_name,
)
from tradein_sdk._version import __version__

SCHEMA_ID_PREFIX: Final = "urn:tradein-sdk:schemas:"
_COMPONENTS: Final = "#/components/schemas/"


def _file_schemas() -> dict[str, Any]:
    found = {}
    for path in sorted(shared_dir("schemas").glob("*.schema.json")):
        name = path.name.removesuffix(".schema.json")
        found[name] = _rewritten(json.loads(path.read_text(encoding="utf-8")), name)
    return found


def _rewritten(node: Any, name: str) -> Any:  # noqa: ANN401 - any JSON value
    """A schema file's content with its refs pointing into the document and its ``$id`` removed."""
    if isinstance(node, list):
        return [_rewritten(item, name) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key in {"$id", "$schema"}:
            continue
        if key == "$ref" and isinstance(value, str):
            result[key] = _reference(value, name)
        else:
            result[key] = _rewritten(value, name)
    return result


def _reference(ref: str, name: str) -> str:
    target, _, fragment = ref.partition("#")
    if target.startswith(SCHEMA_ID_PREFIX):
        name = target.removeprefix(SCHEMA_ID_PREFIX)
    elif target:
        raise ValueError(f"schema {name} refers to {ref!r}, outside the library's schemas")
    return _COMPONENTS + name + fragment


# -- schemas from types ----------------------------------------------------------------------------------


class _Schemas:
    """Builds JSON Schemas of Python types, collecting attrs classes as named components."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}
        self._files: dict[Any, str] = {
            Quote: "quote",
            ConditionReport: "condition-report",
            RenderedQuestionnaire: "rendered-questionnaire",
            SearchResults: "search-results",
            Money: "common/$defs/money",
        }
        self._payout = Payout

    def of(self, kind: Any) -> dict[str, Any]:  # noqa: ANN401, C901, PLR0911 - one branch per kind of type
        """The schema of values of ``kind``."""
        if kind in self._files:
            return {"$ref": _COMPONENTS + self._files[kind]}
        if kind == self._payout:
            return self._payout_schema()
        if _is_param(kind):
            return self._param_schema()
        if kind is Any or kind is object:
            return {}
        simple = _SIMPLE.get(kind)
        if simple is not None:
            return dict(simple)
        if isinstance(kind, type) and issubclass(kind, Enum):
            return {"type": "string", "enum": [member.value for member in kind]}
        if attrs.has(kind):
            return self._component(kind)
        origin = typing.get_origin(kind)
        arguments = typing.get_args(kind)
        if origin in {types.UnionType, typing.Union}:
            if set(typing.get_args(self._payout)) <= set(arguments):
                rest = [item for item in arguments if item not in typing.get_args(self._payout)]
                return {"anyOf": [self._payout_schema(), *(self.of(item) for item in rest)]}
            return {"anyOf": [self.of(item) for item in arguments]}
        if origin in {tuple, list} and (origin is list or arguments[-1:] == (Ellipsis,)):
            return {"type": "array", "items": self.of(arguments[0])}
        if origin in {dict, Mapping}:
            return {"type": "object", "additionalProperties": self.of(arguments[1])}
        raise TypeError(f"no JSON Schema for {kind!r}")

    def _component(self, kind: type) -> dict[str, Any]:
        name = kind.__name__
        if name not in self.components:
            self.components[name] = {}  # a placeholder, for classes that refer to themselves
            hints = typing.get_type_hints(kind)
            fields = attrs.fields(kind)
            schema: dict[str, Any] = {
                "type": "object",
                "properties": {
                    field.name: {
                        **self._field(field, hints[field.name]),
                        **FIELD_CONSTRAINTS.get((kind, field.name), {}),
                    }
                    for field in fields
                },
                "additionalProperties": False,
            }
            required = [field.name for field in fields if field.default is attrs.NOTHING]
            if required:
                schema["required"] = required
            description = (kind.__doc__ or "").strip().split("\n\n")[0]
            if description:
                schema = {"description": " ".join(description.split()), **schema}
            self.components[name] = schema
        return {"$ref": _COMPONENTS + name}

    def _field(self, field: attrs.Attribute[Any], kind: Any) -> dict[str, Any]:  # noqa: ANN401 - a type
        """A field's schema: a schema file when its metadata names one (``answers``), else its type's.

        The constraints of its metadata (a pattern, bounds) apply to its value when it is not null.
        """
        named = field.metadata.get("schema")
        if named is None:
            return constrained(self.of(kind), field)
        schema = {"$ref": _COMPONENTS + named}
        return {"anyOf": [schema, {"type": "null"}]} if type(None) in typing.get_args(kind) else schema

    def form(self, form: Form | str) -> dict[str, Any]:
        """The schema of a JSON form of its own (a Form or its name), as a component under its name."""
        name = form if isinstance(form, str) else form.name
        if name not in self.components:
            self.components[name] = _FORMS[name](self)
        return {"$ref": _COMPONENTS + name}

    def _param_schema(self) -> dict[str, Any]:
        """A text parameter (see :func:`tradein_sdk._domain.converters.unstructure_param`), as a component."""
        if "TextParam" not in self.components:

            def tagged(tag: str, schema: dict[str, Any]) -> dict[str, Any]:
                return {
                    "type": "object",
                    "required": [tag],
                    "additionalProperties": False,
                    "properties": {tag: schema},
                }

            atoms = [
                {"type": "string"},
                {"type": "integer"},
                self.of(Money),
                tagged("percent", _SIMPLE[Decimal]),
                tagged("date", _SIMPLE[date]),
                tagged("phrase", {"type": "string"}),
                tagged("weekday", {"type": "string"}),
                tagged("category", {"type": "string"}),
            ]
            self.components["TextParam"] = {
                "description": "A parameter of a text: text, a number, an amount, a percentage, a date, ...",
                "anyOf": [*atoms, {"type": "array", "items": {"anyOf": atoms}}],
            }
        return {"$ref": _COMPONENTS + "TextParam"}

    def _payout_schema(self) -> dict[str, Any]:
        choices = []
        for kind in typing.get_args(self._payout):
            reference = self._component(kind)
            name = reference["$ref"].removeprefix(_COMPONENTS)
            body = self.components[name]
            self.components[name] = {
                **body,
                "properties": {"method": {"const": kind.method.value}, **body["properties"]},
                "required": ["method", *body.get("required", [])],
            }
            choices.append(reference)
        return {"oneOf": choices}


def constrained(schema: dict[str, Any], field: attrs.Attribute[Any]) -> dict[str, Any]:
    """``schema`` with the constraints of the field's metadata (on its non-null branch)."""
    constraints: dict[str, Any] = field.metadata.get("constraints", {})
    if not constraints:
        return schema
    if "anyOf" in schema:
        return {
            "anyOf": [
                item if item.get("type") == "null" else {**item, **constraints} for item in schema["anyOf"]
            ]
        }
    return {**schema, **constraints}


_SIMPLE: Final[dict[Any, dict[str, Any]]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    Decimal: {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"},
    datetime: {"type": "string", "format": "date-time"},
    date: {"type": "string", "format": "date"},
    bytes: {"type": "string", "contentEncoding": "base64", "pattern": "^[A-Za-z0-9+/]*={0,2}$"},
}


# -- the ledger's JSON forms --------------------------------------------------------------------------------


def _object(properties: Mapping[str, Any], description: str) -> dict[str, Any]:
    """A closed object whose every property is present."""
    return {
        "description": description,
        "type": "object",
        "properties": dict(properties),
        "required": list(properties),
        "additionalProperties": False,
    }


def _nullable(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"anyOf": [dict(schema), {"type": "null"}]}


def _entry_properties(schemas: _Schemas) -> dict[str, Any]:
    """The members of ``entry_json`` (:mod:`tradein_sdk._app.ledger`)."""
    text = {"type": "string"}
    return {
        "id": text,
        "device": _nullable(text),
        "kind": schemas.of(EntryKind),
        "group": schemas.of(EntryGroup),
        "amount": schemas.of(Money),
        "at": _SIMPLE[datetime],
        "cause": text,
        "reason": _nullable(text),
        "due_period": _nullable(text),
        "settles": _nullable(text),
        "details": {"type": "object", "additionalProperties": text},
    }


def _entry_component(schemas: _Schemas) -> dict[str, Any]:
    """``LedgerEntry``: one line of an order's ledger (registered once)."""
    if "LedgerEntry" not in schemas.components:
        schemas.components["LedgerEntry"] = _object(
            _entry_properties(schemas),
            "One line of an order's ledger, never changed once written; `amount` is signed.",
        )
    return {"$ref": _COMPONENTS + "LedgerEntry"}


def _order_entry_component(schemas: _Schemas) -> dict[str, Any]:
    """``OrderLedgerEntry``: an entry outside its order's ledger, naming its order."""
    if "OrderLedgerEntry" not in schemas.components:
        schemas.components["OrderLedgerEntry"] = _object(
            {"order_id": {"type": "string"}, **_entry_properties(schemas)},
            "A ledger entry with its order.",
        )
    return {"$ref": _COMPONENTS + "OrderLedgerEntry"}


_BALANCE: Final = (
    "promised",
    "owed",
    "revised",
    "paid",
    "credited",
    "clawed_back",
    "open",
    "scheduled",
    "charges",
    "clawback_tax",
    "contingent",
)


def _order_ledger(schemas: _Schemas) -> dict[str, Any]:
    money = schemas.of(Money)
    if "LedgerBalance" not in schemas.components:
        schemas.components["LedgerBalance"] = _object(
            dict.fromkeys(_BALANCE, money),
            "Netted entries: paid + credited + open - clawed_back == owed; revised = owed - promised.",
        )
    balance = {"$ref": _COMPONENTS + "LedgerBalance"}
    entry = _entry_component(schemas)
    return _object(
        {
            "order_id": {"type": "string"},
            "currency": {"type": "string"},
            "total": balance,
            "devices": {"type": "object", "additionalProperties": balance},
            "entries": {"type": "array", "items": entry},
            "installments": {"type": "array", "items": entry},
        },
        "An order's ledger: every entry oldest first, the order's and each device's balance, and the "
        "bill-credit installments not yet credited or stopped, first due first.",
    )


def _due_installments(schemas: _Schemas) -> dict[str, Any]:
    item = _object(
        {"position": {"type": "integer"}, "order_id": {"type": "string"}, **_entry_properties(schemas)},
        "An installment due, with its order and its position (pass the last as `after` for the next page).",
    )
    return _object({"installments": {"type": "array", "items": item}}, "Installments due, in posting order.")


def _installments_credited(schemas: _Schemas) -> dict[str, Any]:
    return _object(
        {
            "count": {"type": "integer", "minimum": 0},
            "totals": {"type": "object", "additionalProperties": schemas.of(Money)},
        },
        "How many installments a billing run credited and their total per currency (a repeat credits 0).",
    )


def _installments_stopped(schemas: _Schemas) -> dict[str, Any]:
    return _object(
        {"entries": {"type": "array", "items": _order_entry_component(schemas)}},
        "The entries posted: one `installment_stopped` per installment stopped.",
    )


def _attrs_properties(schemas: _Schemas, kind: type, extra: Mapping[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(kind)
    return {**{field.name: schemas.of(hints[field.name]) for field in attrs.fields(kind)}, **extra}


def _ledger_report(schemas: _Schemas) -> dict[str, Any]:
    money = schemas.of(Money)
    totals = _object(
        _attrs_properties(schemas, CurrencyTotals, {}),
        "One currency: open_at_start + promised + revised - paid - credited + clawed_back == open_at_end.",
    )
    kind = _object(
        {
            "currency": {"type": "string"},
            "kind": schemas.of(EntryKind),
            "amount": money,
            "count": {"type": "integer"},
        },
        "The period's sum and count of one kind of entry.",
    )
    spend = _object(
        _attrs_properties(schemas, PromotionSpend, {"budget_left": _nullable(money)}),
        "A promotion's spend, in the period and in all, against its budget.",
    )
    return _object(
        {
            "start": _SIMPLE[date],
            "end": _SIMPLE[date],
            "ties_out": {"type": "boolean"},
            "totals": {"type": "array", "items": totals},
            "kinds": {"type": "array", "items": kind},
            "promotions": {"type": "array", "items": spend},
        },
        "The shop's ledger over the days [start, end).",
    )


_CERTIFICATE_DEFS: Final = _COMPONENTS + "erasure-certificate/$defs/"


def _signed_certificate(_: _Schemas) -> dict[str, Any]:
    return {"$ref": _CERTIFICATE_DEFS + "envelope"}


def _signed_certificate_or_null(_: _Schemas) -> dict[str, Any]:
    return {"anyOf": [{"$ref": _CERTIFICATE_DEFS + "envelope"}, {"type": "null"}]}


def _certificate_bundle(_: _Schemas) -> dict[str, Any]:
    return {"$ref": _CERTIFICATE_DEFS + "bundle"}


def _signed_revocations(_: _Schemas) -> dict[str, Any]:
    return {
        "description": "A signed envelope with purpose erasure-revocations.",
        "type": "object",
        "required": ["payload", "signature"],
        "additionalProperties": False,
        "properties": {
            "payload": {"$ref": _CERTIFICATE_DEFS + "revocation_list"},
            "signature": {"$ref": _CERTIFICATE_DEFS + "signature"},
        },
    }


def _jwks(_: _Schemas) -> dict[str, Any]:
    key = {
        "type": "object",
        "required": ["kty", "crv", "kid", "x"],
        "properties": {
            "kty": {"const": "OKP"},
            "crv": {"const": "Ed25519"},
            "kid": {"type": "string"},
            "x": {"type": "string"},
            "use": {"type": "string"},
        },
    }
    return {
        "description": "The published Ed25519 keys (RFC 7517 JWK Set) that verify signed documents offline.",
        "type": "object",
        "required": ["keys"],
        "properties": {"keys": {"type": "array", "items": key}},
    }


_KG_RANGE: Final = {
    "type": "object",
    "description": "kg CO2e: the central value and its low and high bound, decimal strings.",
    "required": ["central", "low", "high"],
    "properties": {name: {"type": "string"} for name in ("central", "low", "high")},
}


def _device_co2(_: _Schemas) -> dict[str, Any]:
    line = {
        "type": "object",
        "required": ["kind", "label", "kg", "refs", "sources", "inputs", "counted"],
        "properties": {
            "kind": {
                "enum": [
                    "displaced_production",
                    "refurbishment",
                    "spare_part",
                    "logistics",
                    "end_of_life_treatment",
                ]
            },
            "label": {"type": "string"},
            "kg": _KG_RANGE,
            "refs": {"type": "array", "items": {"type": "string"}},
            "sources": {"type": "array", "items": {"type": "string"}},
            "inputs": {"type": "object", "additionalProperties": {"type": "string"}},
            "assumption": {"type": "string"},
            "counted": {"type": "boolean"},
        },
    }
    return {
        "description": "A device's CO2 result (method tradein-co2-1): avoided emissions, outside any "
        "inventory, and end-of-life treatment, each term a line citing its factor rows and sources.",
        "type": "object",
        "required": [
            "method",
            "factors",
            "model_id",
            "outcome",
            "basis",
            "avoided_kg",
            "treatment_kg",
            "lines",
        ],
        "properties": {
            "method": {"type": "string"},
            "factors": {"type": "string"},
            "model_id": {"type": "string"},
            "variant_id": {"type": ["string", "null"]},
            "category": {"type": "string"},
            "storage_gb": {"type": ["integer", "null"]},
            "outcome": {"enum": ["reuse", "parts", "recycle"]},
            "basis": {"enum": ["exact", "model", "category"]},
            "factor_ref": {"type": "string"},
            "second_life_years": {"type": ["string", "null"]},
            "avoided_kg": _KG_RANGE,
            "avoided_full_displacement_kg": {"type": "string"},
            "treatment_kg": _KG_RANGE,
            "weight_kg": _KG_RANGE,
            "lines": {"type": "array", "items": line},
        },
    }


def _order_co2(schemas: _Schemas) -> dict[str, Any]:
    return {
        "description": "The CO2 result of an order's bought and recycled devices.",
        "type": "object",
        "required": ["order_id", "complete", "pending", "excluded", "totals", "devices"],
        "properties": {
            "order_id": {"type": "string"},
            "complete": {"type": "boolean"},
            "pending": {"type": "array", "items": {"type": "string"}},
            "excluded": {"type": "array", "items": {"type": "string"}},
            "totals": {"type": "object"},
            "devices": {"type": "array", "items": _device_co2(schemas)},
        },
    }


def _signed_co2_report(_: _Schemas) -> dict[str, Any]:
    return {
        "description": "A signed envelope with purpose co2-report; its payload holds the totals (avoided "
        "emissions apart from the inventory view), totals by month and category, the factor rows used and "
        "one row per device.",
        "type": "object",
        "required": ["payload", "signature"],
        "properties": {
            "payload": {"type": "object"},
            "signature": {
                "type": "object",
                "required": ["alg", "kid", "purpose", "value"],
                "properties": {
                    "alg": {"const": "EdDSA"},
                    "kid": {"type": "string"},
                    "purpose": {"const": "co2-report"},
                    "value": {"type": "string", "pattern": "^[A-Za-z0-9_-]{86}$"},
                },
            },
        },
    }


def _signed_guarantee(_: _Schemas) -> dict[str, Any]:
    day = _SIMPLE[date]
    payload = {
        "description": "The contract's document: its id, the device, the purchase, the plan and its terms "
        "version, the price, the schedule in money and dates, the floor, the fallback, the window.",
        "type": "object",
        "required": [
            "type",
            "id",
            "device",
            "purchased_on",
            "sold_at",
            "plan",
            "price",
            "schedule",
            "window",
        ],
        "properties": {
            "type": {"const": "buyback-guarantee"},
            "id": {"type": "string"},
            "device": {"type": "string"},
            "imei": {"type": ["string", "null"]},
            "purchased_on": day,
            "sold_at": {"type": "string"},
            "plan": {"type": "object"},
            "price": {"type": "object"},
            "schedule": {"type": "array", "items": {"type": "object"}},
            "window": {"type": "object"},
        },
    }
    return {
        "description": "A guarantee contract signed with Ed25519 (purpose buyback-guarantee); verify it "
        "offline with the published keys (GET /v1/erasure-certificates/keys).",
        "type": "object",
        "required": ["payload", "signature"],
        "additionalProperties": False,
        "properties": {
            "payload": payload,
            "signature": {
                "type": "object",
                "required": ["alg", "kid", "purpose", "value"],
                "properties": {
                    "alg": {"const": "EdDSA"},
                    "kid": {"type": "string"},
                    "purpose": {"const": "buyback-guarantee"},
                    "value": {"type": "string", "pattern": "^[A-Za-z0-9_-]{86}$"},
                },
            },
        },
    }


def _inflow_line(schemas: _Schemas) -> dict[str, Any]:
    """``GuaranteeInflowLine``: one contract of a buyer's calendar, or its status on its own."""
    money, day, text = schemas.of(Money), _SIMPLE[date], {"type": "string"}
    band = _object(
        {"starts_on": day, "ends_on": day, "amount": money},
        "What returning the device from `starts_on` until before `ends_on` brings.",
    )
    return _object(
        {
            "contract_id": text,
            "device": text,
            "imei": _nullable(text),
            "cost_centre": _nullable(text),
            "plan_id": text,
            "kind": schemas.of(PlanKind),
            "purchased_on": day,
            "exercisable_from": day,
            "expires_on": day,
            "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
            "expected": money,
            "bands": {"type": "array", "items": band},
            "status": schemas.of(InflowStatus),
            "received": _nullable(money),
            "received_on": _nullable(day),
            "order_id": _nullable(text),
        },
        "Where a guarantee contract stands: the inflow planned for the month its window opens "
        "(`expected`, a device meeting the floor), or received (`received` on `received_on`, by order "
        "`order_id`).",
    )


def _guarantee_calendar(schemas: _Schemas) -> dict[str, Any]:
    money = schemas.of(Money)
    total = _object(
        {
            "month": {"type": "string"},
            "cost_centre": _nullable({"type": "string"}),
            "devices": {"type": "integer", "minimum": 0},
            "expected": money,
            "received": money,
        },
        "The inflows of one month and cost centre (lapsed contracts left out).",
    )
    return _object(
        {
            "customer_ref": {"type": "string"},
            "as_of": _SIMPLE[date],
            "currency": {"type": "string"},
            "lines": {"type": "array", "items": schemas.form("GuaranteeInflowLine")},
            "totals": {"type": "array", "items": total},
        },
        "A buyer's calendar of guaranteed inflows: one line per contract, totals per month and cost centre.",
    )


def _guarantee_liability(schemas: _Schemas) -> dict[str, Any]:
    money = schemas.of(Money)
    month = _object(
        {
            "month": {"type": "string"},
            "contracts": {"type": "integer", "minimum": 0},
            "guaranteed": money,
            "market": _object(dict.fromkeys(("low", "central", "high"), money), "The expected market value."),
            "cost": _object(
                dict.fromkeys(("low_market", "central", "high_market"), money),
                "The expected cost over the market (never negative), at a low, central and high market.",
            ),
            "reserve": money,
        },
        "The outstanding guarantees expected to be exercised in one month (`total` for the sums).",
    )
    return _object(
        {
            "as_of": _SIMPLE[date],
            "currency": {"type": "string"},
            "months": {"type": "array", "items": month},
            "totals": month,
            "accounting": {"type": "string"},
        },
        "The retailer's outstanding guarantees by month of expected exercise, with the reserve per month.",
    )


_FORMS: Final[Mapping[str, Callable[[_Schemas], dict[str, Any]]]] = {
    "DeviceCO2": _device_co2,
    "OrderCO2": _order_co2,
    "SignedCO2Report": _signed_co2_report,
    "SignedErasureCertificate": _signed_certificate,
    "SignedGuaranteeContract": _signed_guarantee,
    "GuaranteeInflowLine": _inflow_line,
    "GuaranteeCalendar": _guarantee_calendar,
    "GuaranteeLiability": _guarantee_liability,
    "SignedErasureCertificateOrNull": _signed_certificate_or_null,
    "ErasureCertificateBundle": _certificate_bundle,
    "SignedRevocationList": _signed_revocations,
    "JWKS": _jwks,
    "OrderLedger": _order_ledger,
    "DueInstallments": _due_installments,
    "InstallmentsCredited": _installments_credited,
    "InstallmentsStopped": _installments_stopped,
    "LedgerReport": _ledger_report,
}
"""The schema of each JSON form of its own (:class:`~.api.Form`), by name."""


# -- the document ----------------------------------------------------------------------------------------


def _problem_schema() -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "description": "An error (RFC 9457): `code` is the library's error code.",
        "type": "object",
        "required": ["type", "title", "status", "code", "detail"],
        "properties": {
            "type": text,
            "title": text,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "code": text,
            "detail": text,
            "message_id": text,
            "params": {"type": "object"},
            "problems": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["path"],
                    "properties": {
                        "path": text,
                        "message": text,
                        "code": text,
                        "message_id": text,
                        "params": {"type": "object"},
                        "row": {
                            "type": "integer",
                            "description": "An asset list's row (the header is row 1).",
                        },
                        "column": {**text, "description": "An asset list's column, as its header reads."},
                        "value": {**text, "description": "The cell's text as read."},
                    },
                },
            },
        },
    }


_ERRORS: Final = {
    "400": "The request is malformed or does not fit its schema (`request_malformed`, `request_invalid`).",
    "401": "No valid API key (`unauthenticated`).",
    "403": "The key's role may not call this operation (`forbidden`).",
    "404": "No such resource (`quote_not_found`, `order_not_found`, ...).",
    "409": "A concurrent change or a request with the same idempotency key is running; retry.",
    "422": "A rule of the trade-in was broken (`answers_invalid`, `quote_already_redeemed`, ...).",
    "503": "The store or a provider failed; nothing was written; retry.",
}


def _parameters(operation: Operation, schemas: _Schemas) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in operation.path_parameters
    ]
    if operation.query is not None:
        hints = typing.get_type_hints(operation.query)
        for field in attrs.fields(operation.query):
            schema = constrained(schemas.of(hints[field.name]), field)
            if "anyOf" in schema:  # X | None: in a query, a parameter left out is the None
                schema = next(item for item in schema["anyOf"] if item.get("type") != "null")
            required = field.default is attrs.NOTHING
            parameters.append(
                {"name": query_name(field), "in": "query", "required": required, "schema": schema}
            )
    if operation.form is not None and operation.form.csv is not None:
        parameters.append(
            {
                "name": "format",
                "in": "query",
                "required": False,
                "description": "`csv` for the answer as `text/csv`.",
                "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"},
            }
        )
    if operation.method == "POST":
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Makes the request safe to repeat: one result per key for 24 hours.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
            }
        )
    return parameters


def _operation(operation: Operation, schemas: _Schemas) -> dict[str, Any]:
    problem = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": _COMPONENTS + "Problem"}}}
    form = operation.form
    content: dict[str, Any] = {
        "application/json": {"schema": schemas.of(operation.result) if form is None else schemas.form(form)}
    }
    if form is not None and form.csv is not None:
        content["text/csv"] = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {
        str(operation.status): {"description": "Success.", "content": content},
        **{status: {"description": text, "content": problem} for status, text in _ERRORS.items()},
    }
    if operation.method == "POST":
        responses["413"] = {"description": "The body is larger than 1 MiB.", "content": problem}
    document: dict[str, Any] = {
        "operationId": operation.id,
        "tags": [operation.tag],
        "summary": operation.summary,
        "description": "Roles: "
        + ", ".join(f"`{role.value}`" for role in Role if role in operation.roles)
        + ".",
        "parameters": _parameters(operation, schemas),
        "responses": responses,
    }
    if operation.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.of(operation.body)}},
        }
    return document


def _provider_events() -> dict[str, Any]:
    """``POST /v1/provider/events``: a refurbishment provider's signed webhooks (no API key)."""
    problem = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": _COMPONENTS + "Problem"}}}
    headers = [
        (
            "webhook-id",
            "The event's id, the same on every delivery.",
            {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,255}$"},
        ),
        (
            "webhook-timestamp",
            "Unix seconds of this attempt (within 300 s of now).",
            {"type": "string", "pattern": "^[0-9]{1,12}$"},
        ),
        (
            "webhook-signature",
            "`v1,<base64 HMAC-SHA256>` entries separated by spaces.",
            {"type": "string", "minLength": 1},
        ),
    ]
    event = {
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "properties": {
            "type": {
                "type": "string",
                "enum": [
                    "device.received",
                    "device.inspected",
                    "device.erased",
                    "device.paid",
                    "device.returned",
                ],
            },
            "timestamp": {"type": "string", "format": "date-time"},
            "data": {
                "type": "object",
                "required": ["order_id", "device_id"],
                "properties": {
                    "order_id": {"type": "string"},
                    "device_id": {"type": "string"},
                    "answers": {"$ref": _COMPONENTS + "answers"},
                    "imei": {"type": "string"},
                    "certificate_id": {"type": "string"},
                },
            },
        },
    }
    answer = {
        "type": "object",
        "required": ["event_id", "applied"],
        "additionalProperties": False,
        "properties": {"event_id": {"type": "string"}, "applied": {"type": "boolean"}},
    }
    return {
        "post": {
            "operationId": "provider_event",
            "tags": ["fulfilment"],
            "summary": "A refurbishment provider reports a device received, inspected, erased, paid...",
            "description": (
                "Signed in the Standard Webhooks style with the provider's secret instead of an API key. A "
                "repeated, concurrent or late delivery changes nothing (`applied: false`)."
            ),
            "security": [],
            "parameters": [
                {"name": name, "in": "header", "required": True, "description": text, "schema": schema}
                for name, text, schema in headers
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": event}}},
            "responses": {
                "200": {
                    "description": "Verified and applied (or known).",
                    "content": {"application/json": {"schema": answer}},
                },
                "400": {
                    "description": "Not authentic, outside the time window, or not an event.",
                    "content": problem,
                },
                "404": {"description": "Not configured, or no such order.", "content": problem},
                "413": {"description": "The body is larger than 1 MiB.", "content": problem},
                "422": {
                    "description": "The event does not fit the device (answers, state).",
                    "content": problem,
                },
                "503": {"description": "The store failed; nothing was written; retry.", "content": problem},
            },
        }
    }


def _referenced(generated: list[Any], files: dict[str, Any]) -> set[str]:
    """The schema files the generated components refer to, directly or through each other."""
    used: set[str] = set()
    pending: list[Any] = list(generated)
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref.removeprefix(_COMPONENTS).split("/", 1)[0]
                if name in files and name not in used:
                    used.add(name)
                    pending.append(files[name])
            pending.extend(node.values())
    return used


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the service (what ``schemas/openapi.json`` holds)."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations().values():
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation, schemas)
    paths["/v1/provider/events"] = _provider_events()
    generated = {**dict(sorted(schemas.components.items())), "Problem": _problem_schema()}
    files = _file_schemas()
    used = _referenced([generated, paths], files)
    components = {**{name: schema for name, schema in files.items() if name in used}, **generated}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tradein-sdk trade-in service",
            "version": __version__,
            "description": (
                "Device trade-in over HTTP: catalog search, condition questionnaires and grading, signed "
                "quotes, trade-in orders, checkout with upgrade credit, device protection offers and "
                "buy-back guarantees, the settlement ledger (bill-credit billing runs, period reports as "
                "JSON or CSV), forward trade-in (signed guarantee contracts, their exercise, the retailer's "
                "liability, a buyer's calendar of inflows). "
                "Each operation is the use case of the embedded `TradeIn` facade with the same name. "
                "Errors are problem documents whose `code` is the library's error code."
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "security": [{"apiKey": []}],
        "tags": [
            {"name": name}
            for name in dict.fromkeys([*(op.tag for op in operations().values()), "fulfilment"])
        ],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "An API key."}},
        },
    }


def openapi_text() -> str:
    """The document as ``schemas/openapi.json`` stores it (indented, sorted as built, final newline)."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"
