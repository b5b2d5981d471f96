# ruff: noqa: INP001 - docs/ holds the site's pages; MkDocs loads this file by path, not as a package
"""MkDocs hooks: the reference pages, generated from the repository on every build.

Nothing here is written to disk: every page is a virtual file (``File.generated``) made from what the code and
the shared documents say at build time, so the site cannot drift from them.

* ``reference/api/*.md``: one page per topic, each name of ``tradein_sdk.__all__`` (and of
  ``grading_questionnaire``, ``tradein_sdk.webhooks`` and ``tradein_sdk.testing``) rendered by mkdocstrings. A
  name no topic takes is a warning, so a strict build fails until it has a place.
* ``reference/http/*.md``: the service's operations per tag and the schemas of their bodies and results, read
  from ``schemas/openapi.json`` (no network).
* ``reference/documents/*.md``: the JSON Schemas in ``schemas/`` that shops write documents against.
* ``reference/errors.md``: the exception tree with each code, the HTTP status the service answers with and
  the docstring; then the refusals of the service itself.
* ``reference/cli.md``: ``tradein --help`` for every command, from the CLI's own parser.
* ``changelog.md``: ``CHANGELOG.md``.

Hand-written pages ask for generated parts with an HTML comment on a line of its own, replaced when the page
is read: ``<!-- generated: orders-state-diagram -->`` (the order state machine as Mermaid),
``<!-- generated: orders-transition-table -->``, ``<!-- generated: environment-variables -->`` (every
environment variable the code reads, with its description below) and ``<!-- generated: metrics -->``.

The module also holds :class:`SphinxRoles`, the griffe extension (``mkdocs.yml``) that turns the Sphinx roles
of the docstrings into cross-references.
"""

from __future__ import annotations

import argparse
import ast
import functools
import html
import importlib
import inspect
import json
import logging
import re
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import griffe
from mkdocs.structure.files import File

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.plugins.tradein_docs")

ROOT: Final = Path(__file__).resolve().parent.parent
OPENAPI: Final = ROOT / "schemas" / "openapi.json"
SCHEMAS: Final = ROOT / "schemas"
CHANGELOG: Final = ROOT / "CHANGELOG.md"
SHOP_EXTENSION: Final = ROOT / "examples" / "flask_shop" / "extension.py"
SERVICE: Final = ROOT / "tradein_sdk" / "_remote" / "service.py"
MARKER: Final = re.compile(r"^(?P<indent>[ ]*)<!-- generated: (?P<name>[a-z0-9-]+) -->$", re.MULTILINE)


# == the griffe extension: Sphinx roles and reST literal blocks, read as Markdown ============================

_ROLE: Final = re.compile(
    r":(?P<role>class|meth|func|mod|data|attr|exc|obj):`(?P<tilde>~?)(?P<target>[^`<>\s]+)`"
)
_CALLABLE_ROLES: Final = frozenset({"meth", "func"})
_DOCTEST: Final = re.compile(r"^(?P<indent>[ ]*)>>> ")


def markdown_roles(text: str, resolve: Callable[[str], str | None]) -> str:
    """Rewrite Sphinx roles as optional cross-references, which autorefs links when the target is documented.

    ``:class:`~tradein_sdk.Money``` shows ``Money``, ``:meth:`TradeIn.quote``` shows ``TradeIn.quote()``; an
    unresolved target stays plain code.

    Args:
        text: a docstring or Markdown text.
        resolve: the full dotted path of a name as written, or ``None``.

    Returns:
        The text with every role replaced.
    """

    def replace(match: re.Match[str]) -> str:
        target = match["target"].lstrip(".")
        shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
        if match["role"] in _CALLABLE_ROLES:
            shown += "()"
        label = f"<code>{html.escape(shown)}</code>"
        path = resolve(match["target"])
        if path is None:
            return label
        return f'<autoref identifier="{html.escape(path)}" optional>{label}</autoref>'

    return _ROLE.sub(replace, text)


def markdown_blocks(text: str) -> str:
    """Fence reST literal blocks (a paragraph ending in ``::``) and doctest runs: Markdown keeps them as code.

    Args:
        text: a docstring, dedented.

    Returns:
        The text with each literal block in a ``text`` fence and each run of ``>>>`` lines in a ``pycon`` one.
    """
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.rstrip()
        doctest = _DOCTEST.match(line)
        if doctest:
            indent = doctest["indent"]
            block = []
            while index < len(lines) and lines[index].strip():
                block.append(lines[index].removeprefix(indent))
                index += 1
            out.extend([f"{indent}```pycon", *(indent + item for item in block), f"{indent}```"])
            continue
        if not stripped.endswith("::"):
            out.append(line)
            index += 1
            continue
        indent = len(line) - len(line.lstrip())
        follow = index + 1
        while follow < len(lines) and not lines[follow].strip():
            follow += 1
        if follow >= len(lines) or _indent(lines[follow]) <= indent:
            out.append(line)
            index += 1
            continue
        lead = stripped[:-2].rstrip()
        if lead.strip():
            # "Errors::" would read as a Google admonition once it ends in one colon: keep the words alone.
            bare = re.fullmatch(r"[ ]*[\w][\s\w-]*", lead) is not None
            out.extend([lead if bare else lead + ":", ""])
        block = []
        end = follow
        while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > indent):
            block.append(lines[end])
            end += 1
        while block and not block[-1].strip():
            block.pop()
            end -= 1
        prefix = " " * indent
        body = textwrap.dedent("\n".join(block)).split("\n")
        out.extend([f"{prefix}```text", *(prefix + item if item else "" for item in body), f"{prefix}```"])
        index = end
    return "\n".join(out)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


class SphinxRoles(griffe.Extension):
    """Read the library's reST habits in docstrings as Markdown: roles become links, ``::`` blocks code."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:  # noqa: ANN401, ARG002 - griffe's hook signature
        """Rewrite every docstring of a package once it is loaded."""
        for obj in _objects(pkg):
            if obj.docstring is None:
                continue
            text = markdown_blocks(obj.docstring.value)
            obj.docstring.value = markdown_roles(text, functools.partial(_resolve, obj))


def _objects(obj: griffe.Object) -> Iterator[griffe.Object]:
    yield obj
    for member in obj.members.values():
        if not isinstance(member, griffe.Alias):
            yield from _objects(member)


def _resolve(scope: griffe.Object, target: str) -> str | None:
    """The full path of ``target`` as the docstring of ``scope`` names it (``.api``: a sibling module)."""
    name = target.lstrip("~")
    if name.startswith("."):
        module = scope.module
        package = module.path if module.is_init_module else module.path.rpartition(".")[0]
        for _ in range(len(name) - len(name.lstrip(".")) - 1):
            package = package.rpartition(".")[0]
        return f"{package}.{name.lstrip('.')}"
    head, _, rest = name.partition(".")
    if head in {"tradein_sdk", "grading_questionnaire"}:
        return name
    try:
        base = scope.resolve(head)
    except griffe.NameResolutionError:
        return None
    return f"{base}.{rest}" if rest else base


# == the API reference =======================================================================================


class Topic(NamedTuple):
    """One page of the API reference.

    Attributes:
        slug: the page's file name.
        title: its title.
        intro: the Markdown that opens it.
        names: names placed here whatever their module.
        modules: module prefixes whose names come here unless another topic names them.
        options: mkdocstrings options for every name of the page.
    """

    slug: str
    title: str
    intro: str
    names: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    options: Mapping[str, object] = {}


TOPICS: Final = (
    Topic(
        "facade",
        "The TradeIn facade",
        "`TradeIn` is the one object a shop creates; every use case is a method on it. The remote clients "
        "([Remote mode](remote.md)) have the same methods under the same names.",
        names=("TradeIn", "StoredQuote", "__version__"),
        modules=("tradein_sdk._app.facade",),
    ),
    Topic(
        "money",
        "Money and identifiers",
        "Exact money in one currency, IMEIs and serial numbers. See [Money](../../how-to/money.md).",
        modules=("tradein_sdk._domain.money", "tradein_sdk._domain.identifiers"),
    ),
    Topic(
        "catalog",
        "Catalog and search",
        "The device catalog, its models and variants, and free-text search. See "
        "[Bring your own catalog](../../how-to/own-catalog.md).",
        modules=("tradein_sdk._domain.catalog", "tradein_sdk._domain.devices", "tradein_sdk._domain.search"),
    ),
    Topic(
        "quotes",
        "Quotes, pricing and tokens",
        "Valuation with a price book, the quote that snapshots it, and the signed token that carries it. See "
        "[Pricing](../../concepts/pricing.md) and [Quotes](../../concepts/quotes.md).",
        names=("PriceSource",),
        modules=(
            "tradein_sdk._domain.quotes",
            "tradein_sdk._domain.pricing",
            "tradein_sdk._domain.tokens",
            "tradein_sdk._adapters.prices",
        ),
    ),
    Topic(
        "orders",
        "Orders",
        "Trade-in orders, the device state machine, inspection, payouts and shipping. See "
        "[Orders](../../concepts/orders.md).",
        names=("PayoutDetails", "Fulfilment", "ManualEvent"),
        modules=(
            "tradein_sdk._domain.orders.model",
            "tradein_sdk._domain.orders.vocabulary",
            "tradein_sdk._domain.orders.inspection",
            "tradein_sdk._domain.orders.machine",
            "tradein_sdk._domain.orders.deadlines",
            "tradein_sdk._domain.orders",
            "tradein_sdk._domain.outcome",
            "tradein_sdk._domain.pages",
            "tradein_sdk._domain.payouts",
            "tradein_sdk._domain.shipping",
            "tradein_sdk._adapters.fulfilment",
        ),
    ),
    Topic(
        "checkout",
        "Checkout and promotions",
        "Upgrade credit at checkout, promotions, clawbacks. See [Checkout](../../concepts/checkout.md).",
        names=("EXAMPLE_PROMOTIONS",),
        modules=(
            "tradein_sdk._domain.checkout",
            "tradein_sdk._domain.promotions",
            "tradein_sdk._app.checkout",
        ),
    ),
    Topic(
        "insurance",
        "Device protection",
        "Insurance plans, offers and consent at checkout. See [Checkout](../../concepts/checkout.md).",
        names=("InsuranceOfferSource",),
        modules=("tradein_sdk._domain.insurance", "tradein_sdk._adapters.http.insurers"),
    ),
    Topic(
        "ledger",
        "Ledger and receipts",
        "The settlement ledger of every order, its period report, and purchase receipts. See "
        "[The ledger](../../concepts/ledger.md).",
        names=("Ledger",),
        modules=(
            "tradein_sdk._domain.ledger",
            "tradein_sdk._domain.ledger_report",
            "tradein_sdk._app.ledger",
            "tradein_sdk._domain.receipt",
        ),
    ),
    Topic(
        "audit",
        "Audit log and signing",
        "The hash-chained audit log, its seals and signed checkpoints, retention, and signed documents.",
        names=("AuditLog",),
        modules=(
            "tradein_sdk._domain.audit",
            "tradein_sdk._domain.checkpoints",
            "tradein_sdk._domain.retention",
            "tradein_sdk._domain.signing",
            "tradein_sdk._adapters.checkpoints",
            "tradein_sdk._adapters.sql.audit",
        ),
    ),
    Topic(
        "erasure",
        "Erasure certificates",
        "Erasure reports, signed certificates and their revocation. See "
        "[Erasure certificates](../../concepts/erasure.md).",
        modules=("tradein_sdk._domain.erasure",),
    ),
    Topic(
        "co2",
        "CO2",
        "CO2 avoided by reuse, per device, order and period. See [CO2](../../concepts/co2.md).",
        modules=("tradein_sdk._domain.co2",),
    ),
    Topic(
        "fleet",
        "Fleet trade-in",
        "Company accounts, asset lists, portfolio quotes, batches and self-billing credit notes. See "
        "[Fleet trade-in](../../concepts/fleet.md).",
        names=(
            "MAX_BOXES",
            "MAX_SEAL_LENGTH",
            "MIN_PICKUP_DEVICES",
            "FleetStore",
            "CompanyRecord",
            "BatchRecord",
            "ArchivedDocument",
        ),
        modules=(
            "tradein_sdk._domain.fleet",
            "tradein_sdk._domain.fleet_import",
            "tradein_sdk._domain.fleet_report",
            "tradein_sdk._domain.credit_notes",
        ),
    ),
    Topic(
        "guarantees",
        "Forward trade-in",
        "Guaranteed buy-back plans, offers, contracts and the liability view. See "
        "[Forward trade-in](../../concepts/forward-trade-in.md).",
        names=("GuaranteeStore", "GuaranteeRecord", "GuaranteeChange"),
        modules=("tradein_sdk._domain.guarantees",),
    ),
    Topic(
        "storage",
        "Storage and time",
        "`SQLStore` and the ports (one Protocol per concern) a store of your own implements, and the clock. "
        "See [Bring your own storage](../../how-to/own-storage.md).",
        modules=("tradein_sdk._adapters.sql.store", "tradein_sdk._domain.clock", "tradein_sdk._ports"),
        options={"inherited_members": False},
    ),
    Topic(
        "remote",
        "Remote mode",
        "The HTTP service, its clients, API keys and tenants, and webhook endpoints. See "
        "[Carrier stores and partners](../../getting-started/remote.md), the [HTTP API](../http/index.md).",
        names=("Tenancy", "ApiKeyRecord"),
        modules=(
            "tradein_sdk._remote",
            "tradein_sdk._app.outbox",
            "tradein_sdk._app.tenancy",
            "tradein_sdk._domain.outbox",
            "tradein_sdk._domain.tenancy",
        ),
    ),
    Topic(
        "errors",
        "Errors",
        "Every failure is a `TradeInError` with a stable `code`. The [error codes](../errors.md) page lists "
        "them with the HTTP status the service answers with.",
        modules=("tradein_sdk._errors",),
        options={"inherited_members": False},
    ),
)
"""The pages of ``tradein_sdk.__all__``; ``grading_questionnaire`` and two public modules have their own."""

MODULE_PAGES: Final = (
    (
        "grading",
        "Grading",
        "grading_questionnaire",
        (
            "The standalone package of condition questionnaires and the pure evaluator. See "
            "[Grading](../../concepts/grading.md)."
        ),
    ),
    (
        "webhooks",
        "Webhooks",
        "tradein_sdk.webhooks",
        "Sign, verify, deliver and deduplicate webhooks. See [Receive webhooks](../../how-to/webhooks.md).",
    ),
    (
        "testing",
        "Testing helpers",
        "tradein_sdk.testing",
        "A fake service for an integration's tests. See [Test your integration](../../how-to/testing.md).",
    ),
)
"""Pages of a whole public module: ``(slug, title, module, intro)``; each name of its ``__all__`` is shown."""

MODULE_PAGE_OPTIONS: Final[Mapping[str, object]] = {"inherited_members": False}
"""The names of a module page inherit nothing worth repeating (error classes would repeat ``localized``)."""

PER_NAME_OPTIONS: Final[Mapping[str, Mapping[str, object]]] = {
    "TradeIn": {"summary": {"functions": True}},
    "TradeInClient": {"summary": {"functions": True}},
    "AsyncTradeInClient": {"summary": {"functions": True}},
    "SQLStore": {"inherited_members": True},
}


def _module_of(value: object) -> str:
    module = getattr(value, "__module__", None)
    if inspect.isclass(value) or inspect.isfunction(value) or callable(value):
        return str(module or "")
    return ""


def import_sources(package_init: Path) -> dict[str, str]:
    """Each name a package's ``__init__.py`` imports (or lazily maps) to the module it comes from.

    Constants carry no ``__module__``; this is where they are defined.
    """
    tree = ast.parse(package_init.read_text(encoding="utf-8"))
    sources: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                sources.setdefault(alias.asname or alias.name, node.module)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and isinstance(value, ast.Constant)
                    and isinstance(key.value, str)
                    and isinstance(value.value, str)
                    and "." in value.value
                ):
                    sources.setdefault(key.value, value.value)
    return sources


def place_names(
    names: Iterable[str], values: Mapping[str, object], sources: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """Put each name on its topic's page: named there, else by the longest matching module prefix.

    Args:
        names: the names to place.
        values: each name's object, whose ``__module__`` decides.
        sources: the module each name is imported from, for values without ``__module__`` (constants).

    Returns:
        The names of each topic slug, in reading order (by module, then source line); names no topic takes
        under the key ``""``.
    """
    named = {name: (topic.slug, index) for topic in TOPICS for index, name in enumerate(topic.names)}
    prefixes = sorted(
        ((module, topic.slug, rank) for topic in TOPICS for rank, module in enumerate(topic.modules)),
        key=lambda item: -len(item[0]),
    )
    placed: dict[str, list[tuple[tuple[int, str, int, str], str]]] = {}
    for name in names:
        if name in named:  # names placed by hand come after their page's modules, in the order given
            slug, index = named[name]
            placed.setdefault(slug, []).append(((1 << 10, "", index, name), name))
            continue
        module, slug, rank = _module_of(values[name]) or (sources or {}).get(name, ""), "", 0
        for prefix, candidate, order in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                slug, rank = candidate, order
                break
        placed.setdefault(slug, []).append(((rank, module, _source_line(values[name]), name), name))
    return {slug: [name for _, name in sorted(items)] for slug, items in placed.items()}


def _source_line(value: object) -> int:
    """Where a class or function is defined in its module (cheaply: ``inspect.getsourcelines`` parses it)."""
    function = inspect.unwrap(value) if callable(value) else value
    code = getattr(function, "__code__", None)
    if code is not None:
        return int(code.co_firstlineno)
    name = getattr(value, "__qualname__", None)
    module = sys.modules.get(str(getattr(value, "__module__", "")))
    if not inspect.isclass(value) or name is None or module is None or module.__file__ is None:
        return 1 << 30
    pattern = re.compile(rf"^class {re.escape(name)}\b", re.MULTILINE)
    found = pattern.search(_module_text(module.__file__))
    return 1 << 30 if found is None else found.string.count("\n", 0, found.start()) + 1


@functools.cache
def _module_text(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _directive(path: str, options: Mapping[str, object]) -> str:
    lines = [f"::: {path}"]
    if options:
        lines.append("    options:")
        lines.extend(f"      {key}: {json.dumps(value)}" for key, value in options.items())
    return "\n".join(lines)


def api_pages() -> dict[str, str]:
    """The Markdown of every page of the API reference, by path under ``reference/api/``.

    Names no topic takes are logged as warnings (a strict build fails) and shown on an extra page, so the
    reference still covers every name.
    """
    import grading_questionnaire  # noqa: PLC0415 - imported when the site is built, not when the hook loads
    import tradein_sdk  # noqa: PLC0415

    names = list(tradein_sdk.__all__)
    values = {name: getattr(tradein_sdk, name) for name in names}
    placed = place_names(names, values, import_sources(ROOT / "tradein_sdk" / "__init__.py"))
    pages: dict[str, str] = {}
    index_rows: list[tuple[str, str, str]] = []
    for topic in TOPICS:
        members = placed.get(topic.slug, [])
        blocks = [
            _directive(f"tradein_sdk.{name}", {**topic.options, **PER_NAME_OPTIONS.get(name, {})})
            for name in members
        ]
        pages[f"{topic.slug}.md"] = f"# {topic.title}\n\n{topic.intro}\n\n" + "\n\n".join(blocks) + "\n"
        index_rows.extend((name, f"tradein_sdk.{name}", topic.title) for name in members)
    leftovers = placed.get("", [])
    if leftovers:
        for name in leftovers:
            log.warning("tradein_sdk.%s has no topic in docs/_hooks.py TOPICS: add its name or module", name)
        pages["other.md"] = "# Other names\n\n" + "\n\n".join(
            _directive(f"tradein_sdk.{n}", {}) for n in leftovers
        )
        index_rows.extend((name, f"tradein_sdk.{name}", "Other names") for name in leftovers)
    modules: list[tuple[str, str, str, str, list[str]]] = []
    for slug, title, module_name, intro in MODULE_PAGES:
        module = (
            grading_questionnaire
            if module_name == "grading_questionnaire"
            else importlib.import_module(module_name)
        )
        exported = list(module.__all__)
        blocks = [_directive(module_name, {"members": False, "show_root_heading": False})]
        blocks.extend(_directive(f"{module_name}.{name}", MODULE_PAGE_OPTIONS) for name in exported)
        pages[f"{slug}.md"] = f"# {title}\n\n{intro}\n\n" + "\n\n".join(blocks) + "\n"
        index_rows.extend((name, f"{module_name}.{name}", title) for name in exported)
        modules.append((slug, title, module_name, intro, exported))
    pages["index.md"] = _api_index(placed, modules, index_rows)
    return pages


def _lead(intro: str) -> str:
    """The first sentence of a page's intro, without its "See ..." pointer."""
    return _cell(intro.split(" See ", 1)[0])


def _api_index(
    placed: Mapping[str, Sequence[str]],
    modules: Sequence[tuple[str, str, str, str, Sequence[str]]],
    rows: Sequence[tuple[str, str, str]],
) -> str:
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings when the site is built. Import every name below from `tradein_sdk`",
        "(the grading names from `grading_questionnaire`, the webhook and testing helpers from their",
        "modules); everything else is private and may change without notice.",
        "",
        "| Page | What | Names |",
        "|---|---|---|",
    ]
    lines.extend(
        f"| [{topic.title}]({topic.slug}.md) | {_lead(topic.intro)} | {len(placed.get(topic.slug, []))} |"
        for topic in TOPICS
    )
    lines.extend(
        f"| [{title}]({slug}.md) | `{module}`: {_lead(intro)} | {len(names)} |"
        for slug, title, module, intro, names in modules
    )
    lines += ["", "## Every name", "", "| Name | Page |", "|---|---|"]
    for name, path, title in sorted(rows, key=lambda row: (row[0].lower().lstrip("_"), row[1])):
        lines.append(f"| [`{name}`][{path}] | {title} |")
    return "\n".join(lines) + "\n"


# == JSON Schema as Markdown =================================================================================

Link = Callable[[str], tuple[str, str]]
"""Turns a ``$ref`` into its label and the URL of where it is described."""


def _code(text: object) -> str:
    """Inline code safe inside a table cell: Markdown's link, emphasis and escape characters as entities."""
    escaped = html.escape(str(text), quote=False)
    return "<code>" + escaped.translate(_MARKDOWN_ENTITIES) + "</code>"


_MARKDOWN_ENTITIES: Final = str.maketrans({char: f"&#{ord(char)};" for char in "|[]()*_\\`{}!"})


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def type_of(schema: object, link: Link) -> str:
    """A short Markdown description of a schema's type: ``string``, ``array of [Quote](...)``, ``A or B``."""
    if not isinstance(schema, dict):
        return "any" if schema is True else "nothing"
    if "$ref" in schema:
        label, url = link(str(schema["$ref"]))
        return f"[{label}]({url})"
    if "const" in schema:
        return _code(json.dumps(schema["const"]))
    for key, joiner in (("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")):
        if key in schema:
            return joiner.join(type_of(part, link) for part in schema[key])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(type_of({**schema, "type": item}, link) for item in kind)
    return _plain_type(schema, kind, link)


def _plain_type(schema: Mapping[str, Any], kind: object, link: Link) -> str:
    """The type of a schema of one ``type`` (or none)."""
    if kind == "array":
        items = schema.get("items")
        return f"array of {type_of(items, link)}" if items is not None else "array"
    if kind == "object" or "properties" in schema:
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not schema.get("properties"):
            return f"object of {type_of(extra, link)}"
        return "object"
    if kind is None:
        return "enum" if "enum" in schema else "any"
    return str(kind)


def constraints(schema: object) -> str:
    """The constraints of a schema as words: values, pattern, format, bounds, default."""
    if not isinstance(schema, dict):
        return ""
    parts = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(_code(json.dumps(value)) for value in schema["enum"]))
    labels = (
        ("format", "format"),
        ("pattern", "pattern"),
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
        ("minLength", "length ≥"),
        ("maxLength", "length ≤"),
        ("minItems", "items ≥"),
        ("maxItems", "items ≤"),
    )
    for key, label in labels:
        if key in schema:
            parts.append(f"{label} {_code(schema[key])}")
    if schema.get("uniqueItems"):
        parts.append("unique items")
    if "default" in schema:
        parts.append(f"default {_code(json.dumps(schema['default']))}")
    items = schema.get("items")
    if isinstance(items, dict) and "$ref" not in items and "properties" not in items:
        inner = constraints(items)
        if inner:
            parts.append(f"items: {inner}")
    return "; ".join(parts)


def _describe(schema: object) -> str:
    if not isinstance(schema, dict):
        return ""
    text = str(schema.get("description") or schema.get("title") or "")
    more = constraints(schema)
    return _cell(f"{text} {'(' + more + ')' if more and text else more}".strip())


def property_rows(schema: object, link: Link, prefix: str = "", depth: int = 0) -> list[str]:
    """Table rows of an object's properties, nested inline objects spelled ``parent.child``."""
    if not isinstance(schema, dict):
        return []
    rows = []
    required = set(schema.get("required", []))
    properties = schema.get("properties") or {}
    for name, sub in properties.items():
        path = f"{prefix}{name}"
        rows.append(
            f"| {_code(path)} | {type_of(sub, link)} | {'yes' if name in required else ''} "
            f"| {_describe(sub)} |"
        )
        if depth < 4:
            rows.extend(_nested_rows(sub, link, path, depth))
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and properties:
        rows.append(
            f"| {_code(prefix + '*')} | {type_of(extra, link)} | | {_describe(extra) or 'any other member'} |"
        )
    patterns = schema.get("patternProperties") or {}
    for pattern, sub in patterns.items():
        rows.append(f"| {_code(prefix + '/' + pattern + '/')} | {type_of(sub, link)} | | {_describe(sub)} |")
    return rows


def _nested_rows(schema: object, link: Link, path: str, depth: int) -> list[str]:
    if not isinstance(schema, dict) or "$ref" in schema:
        return []
    if schema.get("properties"):
        return property_rows(schema, link, f"{path}.", depth + 1)
    items = schema.get("items")
    if isinstance(items, dict) and items.get("properties"):
        return property_rows(items, link, f"{path}[].", depth + 1)
    rows = []
    for key in ("anyOf", "oneOf"):
        for part in schema.get(key, []):
            if isinstance(part, dict) and part.get("properties"):
                rows.extend(property_rows(part, link, f"{path}.", depth + 1))
    return rows


def schema_markdown(schema: object, link: Link) -> str:
    """A schema as Markdown: its description, its properties as a table, else what it is."""
    if not isinstance(schema, dict):
        return "Any value.\n" if schema is True else "No value.\n"
    lines = []
    description = schema.get("description")
    if description:
        lines += [str(description), ""]
    rows = property_rows(schema, link)
    if rows:
        lines += ["| Field | Type | Required | Description |", "|---|---|---|---|", *rows, ""]
        if schema.get("additionalProperties") is False:
            lines += ["No other members are allowed.", ""]
    else:
        summary = type_of({key: value for key, value in schema.items() if key != "description"}, link)
        more = constraints(schema)
        lines += [f"Type: {summary}" + (f" ({more})" if more else "") + ".", ""]
    for key, words in (("oneOf", "Exactly one of"), ("anyOf", "Any of"), ("allOf", "All of")):
        parts = schema.get(key)
        if parts and rows:
            lines += [f"{words}: " + ", ".join(type_of(part, link) for part in parts) + ".", ""]
    return "\n".join(lines)


def _raw(schema: object, title: str = "JSON Schema") -> str:
    body = json.dumps(schema, indent=2, ensure_ascii=False)
    return f'??? note "{title}"\n\n' + textwrap.indent(f"```json\n{body}\n```", "    ") + "\n"


_UNTABLED: Final = frozenset(
    {
        "if",
        "then",
        "else",
        "not",
        "allOf",
        "dependentRequired",
        "dependentSchemas",
        "propertyNames",
        "contains",
    }
)
"""JSON Schema keywords the tables do not show: a schema using one gets its JSON beside the table."""


def _lossy(schema: object) -> bool:
    if isinstance(schema, dict):
        return bool(_UNTABLED & schema.keys()) or any(_lossy(value) for value in schema.values())
    if isinstance(schema, list):
        return any(_lossy(value) for value in schema)
    return False


# == the document formats (schemas/*.schema.json) ============================================================


def document_names() -> list[str]:
    """The names of the JSON Schemas in ``schemas/`` (``quote`` for ``quote.schema.json``)."""
    return sorted(path.name.removesuffix(".schema.json") for path in SCHEMAS.glob("*.schema.json"))


def _def_anchor(parts: Sequence[str]) -> str:
    return "defs-" + "-".join(re.sub(r"[^A-Za-z0-9_]+", "-", part) for part in parts)


def _pointer_link(document: str, pointer: str, page_prefix: str) -> tuple[str, str]:
    """Where ``document``'s JSON pointer is described, from a page whose documents are at ``page_prefix``."""
    parts = [part for part in pointer.split("/") if part]
    if len(parts) >= 2 and parts[0] == "$defs":
        label = ".".join(part for part in parts[1:] if part != "properties")
        return label, f"{page_prefix}{document}.md#{_def_anchor(parts[1:2])}"
    return document, f"{page_prefix}{document}.md"


def document_pages() -> dict[str, str]:
    """The Markdown of every document format, by path under ``reference/documents/``."""
    names = document_names()
    pages = {}
    for name in names:
        schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))

        def link(ref: str, current: str = name) -> tuple[str, str]:
            address, _, pointer = ref.partition("#")
            document = address.rsplit(":", 1)[-1] if address else current
            label, url = _pointer_link(document, pointer, "")
            if document == current:
                url = url.removeprefix(f"{current}.md")
                return label, url or "#"
            return (f"{document}: {label}" if label != document else document), url

        source = f"`schemas/{name}.schema.json`, `$id` `{schema.get('$id', '')}`"
        lines = [
            f"# {name}",
            "",
            f"**{schema.get('title', name)}**: {source}.",
            "",
            schema_markdown({key: value for key, value in schema.items() if key != "$defs"}, link),
        ]
        for def_name, definition in (schema.get("$defs") or {}).items():
            lines += [
                f"## `{def_name}` {{#{_def_anchor([def_name])}}}",
                "",
                schema_markdown(definition, link),
            ]
        lines += ["", _raw(schema, f"{name}.schema.json")]
        pages[f"{name}.md"] = "\n".join(lines)
    index = [
        "# Document formats",
        "",
        (
            "The JSON documents the library reads and writes are validated against JSON Schema 2020-12 "
            "documents in `schemas/` (each `$id` is `urn:tradein-sdk:schemas:<name>`); every problem names "
            "its JSON path. These pages are generated from them."
        ),
        "",
        "| Document | Schema | What it is |",
        "|---|---|---|",
    ]
    for name in names:
        schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
        index.append(
            f"| [{name}]({name}.md) | `schemas/{name}.schema.json` | {_cell(str(schema.get('title', '')))} |"
        )
    pages["index.md"] = "\n".join(index) + "\n"
    return pages


# == the HTTP API (schemas/openapi.json) =====================================================================

_COMPONENT: Final = "#/components/schemas/"
_METHODS: Final = ("get", "post", "put", "patch", "delete")


def _schema_anchor(name: str) -> str:
    return "schema-" + re.sub(r"[^A-Za-z0-9_]+", "-", name)


def http_link(documents: Iterable[str]) -> Link:
    """The link of an OpenAPI ``$ref`` from a page in ``reference/http/``."""
    embedded = set(documents)

    def link(ref: str) -> tuple[str, str]:
        if not ref.startswith(_COMPONENT):
            return ref, "#"
        name, _, pointer = ref.removeprefix(_COMPONENT).partition("/")
        if name in embedded:
            label, url = _pointer_link(name, pointer, "../documents/")
            return (f"{name}: {label}" if label != name else name), url
        return name, f"schemas.md#{_schema_anchor(name)}"

    return link


def _operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for path, item in document["paths"].items():
        for method in _METHODS:
            if method in item:
                yield method.upper(), path, item[method]


_CODES: set[str] = set()
"""The error codes of the error page, for the links of the HTTP pages (filled by :func:`http_pages`)."""
TAG_TITLES: Final = {"co2": "CO2"}
"""Titles of OpenAPI tags that ``str.capitalize`` would spell wrong."""


def _tag_title(tag: str) -> str:
    return TAG_TITLES.get(tag, tag.capitalize())


def _tag_slug(tag: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", tag.lower()).strip("-") or "other"


def http_pages() -> dict[str, str]:
    """The Markdown of the HTTP API by path under ``reference/http/``: an index, a page per tag, schemas."""
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    link = http_link(document_names())
    _CODES.clear()
    _CODES.update(known_codes())
    tags = [tag["name"] for tag in document.get("tags", [])]
    by_tag: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = {tag: [] for tag in tags}
    for method, path, operation in _operations(document):
        by_tag.setdefault((operation.get("tags") or ["other"])[0], []).append((method, path, operation))
    descriptions = {tag["name"]: tag.get("description", "") for tag in document.get("tags", [])}
    pages = {"index.md": _http_index(document, by_tag)}
    for tag, operations in by_tag.items():
        if not operations:
            continue
        lines = [f"# {_tag_title(tag)}", ""]
        if descriptions.get(tag):
            lines += [descriptions[tag], ""]
        lines += ["| Operation | Summary |", "|---|---|"]
        lines += [
            f"| [`{m} {p}`](#{o['operationId']}) | {_cell(o.get('summary', ''))} |" for m, p, o in operations
        ]
        lines.append("")
        for method, path, operation in operations:
            lines += _operation_markdown(method, path, operation, link)
        pages[f"{_tag_slug(tag)}.md"] = "\n".join(lines)
    pages["schemas.md"] = _http_schemas(document, link)
    return pages


def _http_index(document: Mapping[str, Any], by_tag: Mapping[str, Sequence[tuple[str, str, Any]]]) -> str:
    info = document.get("info", {})
    servers = ", ".join(f"`{server['url']}`" for server in document.get("servers", []))
    lines = [
        "# HTTP API",
        "",
        (
            f"**{info.get('title', '')}**, version {info.get('version', '')}, "
            f"OpenAPI {document.get('openapi', '')}. "
            "Generated from `schemas/openapi.json`, which the service also serves at `GET /v1/openapi.json` "
            "(`scripts/openapi.py` regenerates the file from the operations; a test fails when it is stale)."
        ),
        "",
        str(info.get("description", "")),
        "",
        (
            f"Example server: {servers}. Every operation but the few marked otherwise needs an API key: "
            "`Authorization: Bearer <key>` (see "
            "[API keys and tenants](../../getting-started/remote.md#api-keys-and-tenants)). "
            "Each operation lists the roles that may call it."
        ),
        "",
        (
            "Errors are problem documents (`application/problem+json`, RFC 9457) whose `code` is the "
            "library's "
            "error code: see [error codes](../errors.md). Every POST that changes something takes an "
            "`Idempotency-Key` header."
        ),
        "",
        "## Operations",
        "",
    ]
    for tag, operations in by_tag.items():
        if not operations:
            continue
        lines += [
            f"### [{_tag_title(tag)}]({_tag_slug(tag)}.md)",
            "",
            "| Method | Path | Operation | Summary |",
            "|---|---|---|---|",
        ]
        for method, path, operation in operations:
            anchor = f"{_tag_slug(tag)}.md#{operation['operationId']}"
            lines.append(
                f"| {method} | `{path}` | [`{operation['operationId']}`]({anchor}) "
                f"| {_cell(operation.get('summary', ''))} |"
            )
        lines.append("")
    lines += [
        "## Outside the API",
        "",
        (
            "`GET /healthz`, `GET /readyz` and `GET /metrics` answer without an API key; see "
            "[Monitoring](../../operations/monitoring.md)."
        ),
        "",
    ]
    return "\n".join(lines)


def _operation_markdown(method: str, path: str, operation: Mapping[str, Any], link: Link) -> list[str]:
    op_id = operation["operationId"]
    lines = [f"## `{method} {path}` {{#{op_id}}}", "", f"**{operation.get('summary', '')}**", ""]
    if operation.get("description"):
        lines += [str(operation["description"]), ""]
    import tradein_sdk  # noqa: PLC0415 - imported when the site is built

    if hasattr(tradein_sdk.TradeIn, op_id) and hasattr(tradein_sdk.TradeInClient, op_id):
        method = f"[`TradeIn.{op_id}`][tradein_sdk.TradeIn.{op_id}] (and the clients' `{op_id}`)"
        text = f"Operation id `{op_id}`; the facade's method: {method}."
    else:
        text = f"Operation id `{op_id}`; no facade method: it is called by other systems."
    if operation.get("security") == []:
        text += " No API key: the request is authenticated otherwise."
    lines += [text, ""]
    parameters = operation.get("parameters") or []
    if parameters:
        lines += [
            "**Parameters**",
            "",
            "| Name | In | Type | Required | Description |",
            "|---|---|---|---|---|",
        ]
        for parameter in parameters:
            schema = parameter.get("schema", {})
            text = _cell(f"{parameter.get('description', '')} {constraints(schema)}".strip())
            required = "yes" if parameter.get("required") else ""
            lines.append(
                f"| `{parameter['name']}` | {parameter['in']} | {type_of(schema, link)} "
                f"| {required} | {text} |"
            )
        lines.append("")
    body = operation.get("requestBody")
    if body:
        for media, content in body.get("content", {}).items():
            schema = content.get("schema", {})
            required = "required" if body.get("required") else "optional"
            lines += [f"**Request body** (`{media}`, {required}): {type_of(schema, link)}", ""]
            lines += _inline_properties(schema, link)
    lines += ["**Responses**", "", "| Status | Meaning | Body |", "|---|---|---|"]
    for status, response in sorted(operation.get("responses", {}).items()):
        bodies = [
            f"{type_of(content.get('schema', {}), link)} (`{media}`)"
            for media, content in response.get("content", {}).items()
        ]
        meaning = link_codes(_cell(response.get("description", "")), _CODES, "../errors.md")
        lines.append(f"| {status} | {meaning} | {', '.join(bodies) or '—'} |")
    lines.append("")
    return lines


def _inline_properties(schema: Mapping[str, Any], link: Link) -> list[str]:
    """The properties of a body that is a component of the API's own, shown where the operation is."""
    ref = schema.get("$ref", "")
    if not ref.startswith(_COMPONENT) or "/" in ref.removeprefix(_COMPONENT):
        return []
    target = _component(ref)
    rows = property_rows(target, link)
    if not rows:
        return []
    return ["| Field | Type | Required | Description |", "|---|---|---|---|", *rows, ""]


_DOCUMENT: dict[str, Any] = {}


def _component(ref: str) -> Mapping[str, Any]:
    if not _DOCUMENT:
        _DOCUMENT.update(json.loads(OPENAPI.read_text(encoding="utf-8")))
    schema: Mapping[str, Any] = _DOCUMENT["components"]["schemas"][ref.removeprefix(_COMPONENT)]
    return schema


def _http_schemas(document: Mapping[str, Any], link: Link) -> str:
    embedded = set(document_names())
    schemas = document.get("components", {}).get("schemas", {})
    lines = [
        "# Schemas",
        "",
        "The bodies and results of the operations. The JSON documents of `schemas/` that the API embeds are "
        "described under [Document formats](../documents/index.md): "
        + ", ".join(f"[{name}](../documents/{name}.md)" for name in sorted(embedded & set(schemas)))
        + ".",
        "",
    ]
    for name, schema in schemas.items():
        if name in embedded:
            continue
        lines += [f"## `{name}` {{#{_schema_anchor(name)}}}", "", schema_markdown(schema, link)]
        if _lossy(schema):
            lines.append(_raw(schema))
    return "\n".join(lines)


# == error codes =============================================================================================


def error_classes() -> list[type[Exception]]:
    """Every error class of the library with a ``code``, depth first from ``TradeInError``, then grading's."""
    import grading_questionnaire  # noqa: PLC0415 - imported when the site is built
    import tradein_sdk.webhooks  # noqa: F401, PLC0415 - its errors join the tree
    from tradein_sdk import TradeInError  # noqa: PLC0415

    found: list[type[Exception]] = []

    def walk(cls: type[Exception]) -> None:
        if cls.__module__.startswith(("tradein_sdk", "grading_questionnaire")) and "code" in cls.__dict__:
            found.append(cls)
        for sub in sorted(cls.__subclasses__(), key=lambda item: (item.__module__, _source_line(item))):
            walk(sub)

    walk(TradeInError)
    walk(grading_questionnaire.QuestionnaireError)
    return found


def _public_path(cls: type) -> str:
    import grading_questionnaire  # noqa: PLC0415
    import tradein_sdk  # noqa: PLC0415
    import tradein_sdk.webhooks  # noqa: PLC0415

    for module in (tradein_sdk, tradein_sdk.webhooks, grading_questionnaire):
        if getattr(module, cls.__name__, None) is cls:
            return f"{module.__name__}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def _status(cls: type[Exception]) -> str:
    from tradein_sdk import APIError, TradeInError  # noqa: PLC0415
    from tradein_sdk._remote.api import status_for  # noqa: PLC0415
    from tradein_sdk.webhooks import WebhookDeliveryError  # noqa: PLC0415

    if issubclass(cls, APIError):
        return "— (raised by the clients)"
    if issubclass(cls, WebhookDeliveryError):
        return "— (raised when sending)"
    if not issubclass(cls, TradeInError):
        return "— (the facade raises its `TradeInError`)"
    status = str(status_for(cls.__new__(cls)))
    if (
        cls.__name__ == "InvalidIdempotencyKeyError"
        and "_check_idempotency_key(key, method)" in SERVICE.read_text(encoding="utf-8")
    ):
        status += " (400 for the `Idempotency-Key` header)"
    return status


def _doc_text(cls: type) -> str:
    """The class docstring's description (before its Google sections), as Markdown."""
    import tradein_sdk  # noqa: PLC0415

    text = inspect.cleandoc(cls.__doc__ or "")
    text = re.split(
        r"^(?:Attributes|Args|Raises|Returns|Example|Examples):\s*$", text, maxsplit=1, flags=re.MULTILINE
    )[0]

    def resolve(target: str) -> str | None:
        name = target.lstrip("~")
        if name.startswith(("tradein_sdk", "grading_questionnaire")):
            return name
        head = name.split(".", 1)[0]
        return f"tradein_sdk.{name}" if head in tradein_sdk.__all__ else None

    return markdown_roles(markdown_blocks(text.strip()), resolve)


def _service_refusals() -> list[tuple[str, str]]:
    """The problem codes the service answers with before any use case runs, from its source."""
    source = SERVICE.read_text(encoding="utf-8")
    found = re.findall(r"(?:_RequestError|_problem)\(\s*(\d{3}),\s*\"([a-z_]+)\"", source)
    return sorted(set(found), key=lambda item: (item[0], item[1]))


def error_tree(classes: Sequence[type[Exception]]) -> str:
    """The exception tree as text, one class per line with its code, as ``_errors.py`` draws it."""
    listed = set(classes)
    rows: list[tuple[str, str]] = []

    def walk(cls: type[Exception], prefix: str, last: bool, root: bool) -> None:
        branch = "" if root else prefix + ("└── " if last else "├── ")
        rows.append((branch + cls.__name__, str(cls.__dict__.get("code", ""))))
        children = [sub for sub in classes if sub.__bases__ and _parent(sub) is cls and sub in listed]
        inner = "" if root else prefix + ("    " if last else "│   ")
        for index, child in enumerate(children):
            walk(child, inner, index == len(children) - 1, root=False)

    for root in [cls for cls in classes if _parent(cls) is None]:
        walk(root, "", last=True, root=True)
    width = max(len(name) for name, _ in rows) + 2
    return "\n".join(f"{name:{width}}{code}".rstrip() for name, code in rows)


def _parent(cls: type) -> type | None:
    """The nearest base class that has a ``code`` of its own."""
    return next((base for base in cls.__mro__[1:] if "code" in base.__dict__), None)


def errors_page() -> str:
    """The error-code reference."""
    classes = error_classes()
    lines = [
        "# Error codes",
        "",
        (
            "Every failure the library lets a caller see is a `TradeInError` (grading's own errors are "
            "`QuestionnaireError`s) with a stable `code`. The service answers with a problem document "
            "(`application/problem+json`) whose `code` is the same, and the clients raise the same class "
            "again, "
            "so code can handle an error the same way embedded and remote. Generated from the exception tree "
            "(`tradein_sdk/_errors.py`, `tradein_sdk.webhooks`, `grading_questionnaire`) and from the "
            "service's "
            "mapping of errors to HTTP statuses (`status_for` in `tradein_sdk/_remote/api.py`)."
        ),
        "",
        (
            "`error.localized(locale)` gives the message in a shopper's language when it is shopper-facing; "
            "`message_id` and `params` are in every problem document for a frontend to translate. "
            "How to use them: "
            "[Handle errors](../how-to/errors.md)."
        ),
        "",
        "## The tree",
        "",
        "Catch a family by its class: each code below is also every code under it.",
        "",
        "```text",
        error_tree(classes),
        "```",
        "",
        "## Overview",
        "",
        "| Code | Exception | Parent | HTTP status | Meaning |",
        "|---|---|---|---|---|",
    ]
    details = []
    for cls in classes:
        code = str(cls.__dict__["code"])
        parent = _parent(cls)
        parent_cell = f"`{parent.__name__}`" if parent is not None else ""
        path = _public_path(cls)
        summary = _cell(inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0])
        status = _status(cls)
        lines.append(
            f"| [`{code}`](#{code}) | [`{cls.__name__}`][{path}] | {parent_cell} | {status} | {summary} |"
        )
        kind = f", a `{parent.__name__}`" if parent is not None else ""
        details += [
            f"### `{code}` {{#{code}}}",
            "",
            f"[`{cls.__name__}`][{path}]{kind}. HTTP status: {status}.",
            "",
            _doc_text(cls),
            "",
        ]
    lines += ["", "## Each code", "", *details]
    lines += [
        "## Refusals of the service",
        "",
        (
            "The service refuses some requests before any use case runs; these codes have no exception class "
            "(a client raises the `APIStatusError` of the status). "
            "Read from `tradein_sdk/_remote/service.py`."
        ),
        "",
    ]
    class_codes = {str(cls.__dict__["code"]) for cls in classes}
    for status, code in _service_refusals():
        if code not in class_codes:
            lines += [f"### `{code}` {{#{code}}}", "", f"HTTP {status}.", ""]
    return "\n".join(lines)


def known_codes() -> set[str]:
    """Every code the error page has a section for."""
    return {str(cls.__dict__["code"]) for cls in error_classes()} | {code for _, code in _service_refusals()}


def link_codes(text: str, codes: Iterable[str], page: str) -> str:
    """Link each known error code written in backticks to its section of the error page at ``page``."""
    known = set(codes)
    return re.sub(
        r"`([a-z_]+)`",
        lambda match: f"[`{match[1]}`]({page}#{match[1]})" if match[1] in known else match[0],
        text,
    )


# == the command line ========================================================================================


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:  # noqa: SLF001 - argparse keeps its sub-commands there
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            yield from action.choices.items()


def cli_page() -> str:
    """``--help`` of every command of ``tradein``, from the CLI's own parser."""
    from tradein_sdk._cli import build_parser  # noqa: PLC0415 - imported when the site is built

    lines = [
        "# Command line",
        "",
        (
            "`tradein` is installed with the package. Generated from its own parser (`tradein --help`); "
            "see the "
            "[operations guides](../operations/index.md) for when to run what."
        ),
        "",
    ]

    def document(parser: argparse.ArgumentParser, depth: int) -> None:
        parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=88, max_help_position=26)
        heading = "#" * min(depth + 1, 4)
        lines.extend([f"{heading} `{parser.prog}`", "", "```text", parser.format_help().rstrip(), "```", ""])
        for _, sub in _subcommands(parser):
            document(sub, depth + 1)

    document(build_parser(), 1)
    return "\n".join(lines)


# == the parts hand-written pages ask for ====================================================================


class Variable(NamedTuple):
    """An environment variable of the configuration reference.

    Attributes:
        default: what applies when it is not set.
        meaning: what it sets.
    """

    default: str
    meaning: str


ENVIRONMENT: Final[Mapping[str, Variable]] = {
    "TRADEIN_DATA_DIR": Variable(
        "`$XDG_DATA_HOME/tradein`, else `~/.local/share/tradein` (the shop: its instance folder)",
        "Where `TradeIn.embedded()` keeps the SQLite file, the quote key file `quote-keys.json`, the signing "
        "ring `signing-keys.json` and `audit-checkpoints/`; the CLI's `--data-dir`.",
    ),
    "XDG_DATA_HOME": Variable("`~/.local/share`", "The base of the default data directory."),
    "TRADEIN_DATABASE_URL": Variable(
        "a SQLite file in the data directory",
        "The database: `sqlite:///path` or `postgresql://user@host/db` (install the `postgres` extra). Every "
        "instance of a service or shop shares it.",
    ),
    "TRADEIN_QUOTE_KEYS": Variable(
        "a key file made on first use",
        "The HMAC keys that sign quote tokens: `k2=<base64url secret>,k1=<...>`, the first signs, "
        "all verify. "
        "Every instance must share it. See [Keys and rotation](keys.md#quote-keys).",
    ),
    "TRADEIN_SIGNING_KEYS": Variable(
        "`signing-keys.json` in the data directory, made on first use",
        "The Ed25519 ring (JSON, as `signing-keys.json` holds it) that seals audit entries and signs "
        "certificates, checkpoints, reports and contracts. Every instance must share it.",
    ),
    "TRADEIN_AUDIT_CHECKPOINTS": Variable(
        "`audit-checkpoints/` in the data directory",
        "Where signed audit checkpoints are kept (outside the database).",
    ),
    "TRADEIN_API_KEYS": Variable(
        "none: keys minted with `tradein keys create` are kept in the store",
        "API keys the service accepts besides the stored ones: `tenant[@organisation][:role]=key`, "
        "separated by "
        "commas (the role is `store` when left out).",
    ),
    "TRADEIN_MARKET": Variable("`DE`", "The default market of the service's and the shop's facade."),
    "TRADEIN_MAX_BODY_BYTES": Variable(
        "`1048576` (1 MiB)", "The largest request body the service reads (413 above)."
    ),
    "TRADEIN_METRICS_KEY": Variable("none: `/metrics` is public", "The Bearer key `/metrics` then needs."),
    "TRADEIN_LOG_FORMAT": Variable(
        "text", "`json` writes the service's and the worker's log lines (the access log too) as JSON."
    ),
    "TRADEIN_WEBHOOK_URLS": Variable(
        "none", "Operator webhook endpoints (space-separated) that receive every tenant's events."
    ),
    "TRADEIN_WEBHOOK_SECRETS": Variable(
        "none (required with `TRADEIN_WEBHOOK_URLS`)",
        "The `whsec_` secrets those endpoints are signed with; several while rotating.",
    ),
    "TRADEIN_PROVIDER_WEBHOOK_SECRETS": Variable(
        "none: `POST /v1/provider/events` answers 404",
        "The `whsec_` secrets (space-separated) a refurbishment provider signs its webhooks with.",
    ),
    "PROMETHEUS_MULTIPROC_DIR": Variable(
        "set by `tradein serve` to a fresh directory",
        "Where gunicorn workers keep their metrics so `/metrics` sums them (prometheus-client).",
    ),
    "TRADEIN_BASE_URL": Variable("none (required by a client without `base_url`)", "The service's root URL."),
    "TRADEIN_API_KEY": Variable("none (required by a client without `api_key`)", "The client's API key."),
    "TRADEIN_TIMEOUT": Variable("`10`", "Seconds per attempt of a client call."),
    "TRADEIN_DEADLINE": Variable("`30`", "Seconds for a whole client call, retries and waits included."),
    "TRADEIN_MAX_RETRIES": Variable("`2`", "Retries of a client call after the first attempt."),
    "TRADEIN_RESOURCE_CACHE": Variable(
        "the system's temporary folder",
        "Where files of a zipped installation are copied once.",
    ),
    "TRADEIN_LOCALE": Variable("`de_DE`", "The shop's default locale."),
    "TRADEIN_LOCALES": Variable("`de_DE en_GB fr_FR`", "The locales the shop offers, the default first."),
    "TRADEIN_AUDIENCE": Variable("`flask-shop`", "The shop id quote tokens are issued for."),
    "TRADEIN_SEED_DEMO": Variable("on", "Fill an empty database with demo orders; `0` turns it off."),
    "TRADEIN_STAFF_PASSWORD": Variable("`demo`", "The back office password: change it."),
    "TRADEIN_PROMOTIONS_FILE": Variable("the bundled example promotions", "The shop's promotions document."),
    "TRADEIN_CLOCK": Variable(
        "the system clock", 'Where the shop\'s "now" comes from (a `Clock`; tests set it).'
    ),
    "TRADEIN_DEMO_CLOCK": Variable(
        "`on` when the shop seeds demo data, else `off`",
        '`on`, `staff` or `off`: a demo clock the shop can move on ("one year later"), shown to anyone or to '
        "staff only.",
    ),
    "TRADEIN_FLEET_ISSUER": Variable(
        "a demo company", "The shop as fleet credit notes name it: a `Party`, or its fields as JSON."
    ),
    "TRADEIN_SHOP_*": Variable(
        "none",
        "Flask's own settings, prefix removed: `TRADEIN_SHOP_SECRET_KEY` signs the session cookie (default: "
        "generated once, kept in the data directory).",
    ),
    "TRADEIN_TEST_POSTGRES_URL": Variable(
        "`postgresql://postgres@127.0.0.1:5432/test`", "The PostgreSQL server of the project's tests."
    ),
    "TRADEIN_REQUIRE_POSTGRES": Variable(
        "unset", "`1` makes PostgreSQL tests fail instead of skip (`.ci/run`)."
    ),
    "TRADEIN_REQUIRE_BROWSER": Variable("unset", "`1` makes the browser tests fail instead of skip."),
}
"""What each variable means; the hook lists what the code reads and warns on a variable not described."""

_READERS: Final = (
    ("examples/flask_shop/", "shop"),
    ("tradein_sdk/_cli/", "CLI"),
    ("tradein_sdk/_remote/service.py", "service"),
    ("tradein_sdk/_remote/client.py", "clients"),
    ("tradein_sdk/_remote/transport.py", "clients"),
    ("tradein_sdk/", "library"),
    ("grading_questionnaire/", "library"),
    ("tests/", "tests"),
)
_VARIABLE: Final = re.compile(r"[\"']((?:TRADEIN|PROMETHEUS|XDG)_[A-Z0-9_]+)[\"']")


_TEST_SWITCH: Final = re.compile(r"TRADEIN_(?:TEST|REQUIRE)_[A-Z0-9_]+")
"""The test suite's own variables; any other a test names is one it sets for the code under test."""


def environment_readers() -> dict[str, list[str]]:
    """Every environment variable a string literal of the code names, with who reads it."""
    found: dict[str, list[str]] = {}
    for folder in ("tradein_sdk", "grading_questionnaire", "examples", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            reader = next(label for prefix, label in _READERS if relative.startswith(prefix))
            for name in _VARIABLE.findall(path.read_text(encoding="utf-8")):
                if reader == "tests" and not _TEST_SWITCH.fullmatch(name):
                    continue
                if name == "TRADEIN_SHOP":
                    name = "TRADEIN_SHOP_*"  # noqa: PLW2901 - Flask's from_prefixed_env("TRADEIN_SHOP")
                readers = found.setdefault(name, [])
                if reader not in readers:
                    readers.append(reader)
    for key in _shop_settings():
        readers = found.setdefault(key, [])
        if "shop" not in readers:
            readers.append("shop")
    return found


def _shop_settings() -> dict[str, str]:
    """The demo shop's ``DEFAULTS`` (each falls back to the environment variable of its name), as written."""
    tree = ast.parse(SHOP_EXTENSION.read_text(encoding="utf-8"))
    for node in tree.body:
        target: ast.expr | None = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id == "DEFAULTS" and isinstance(value, ast.Dict):
            return {
                key.value: ast.unparse(default)
                for key, default in zip(value.keys, value.values, strict=True)
                if isinstance(key, ast.Constant) and isinstance(key.value, str)
            }
    log.warning("docs: DEFAULTS not found in %s", SHOP_EXTENSION)
    return {}


_SETTING_ROW: Final = re.compile(r"^``(?P<name>[A-Z][A-Z0-9_]*)``(?:\s+(?P<text>.*))?$")


def shop_setting_descriptions() -> dict[str, str]:
    """The settings table of the shop extension's docstring: each setting's text, continuation lines joined.

    The shop documents its own settings there; the configuration reference takes a setting's meaning from it
    when ``ENVIRONMENT`` does not describe the setting.
    """
    docstring = ast.get_docstring(ast.parse(SHOP_EXTENSION.read_text(encoding="utf-8"))) or ""
    found: dict[str, str] = {}
    last = ""
    for line in docstring.splitlines():
        row = _SETTING_ROW.match(line)
        if row:
            last = row["name"]
            found[last] = (row["text"] or "").strip()
        elif last and line.startswith(" ") and line.strip():
            found[last] += " " + line.strip()
        else:
            last = ""
    return {name: " ".join(text.split()) for name, text in found.items()}


def environment_table() -> str:
    """The configuration reference: one row per environment variable, product first, then the tests'."""
    found = environment_readers()
    shop_texts = shop_setting_descriptions()
    shop_defaults = _shop_settings()
    for name in sorted(set(found) - set(ENVIRONMENT) - set(shop_texts)):
        log.warning(
            "the code reads %s, which neither docs/_hooks.py ENVIRONMENT nor the settings table of "
            "examples/flask_shop/extension.py describes",
            name,
        )
    for name in sorted(set(ENVIRONMENT) - set(found)):
        log.warning("docs/_hooks.py ENVIRONMENT describes %s, which no code reads any more", name)
    order = {name: index for index, name in enumerate(ENVIRONMENT)}
    product = [name for name in found if set(found[name]) - {"tests"}]
    tests = [name for name in found if set(found[name]) == {"tests"}]
    lines = ["| Variable | Read by | Default | Meaning |", "|---|---|---|---|"]
    for name in sorted(product, key=lambda item: (order.get(item, len(order)), item)):
        default = shop_defaults.get(name, "None")
        shown = "unset" if default == "None" else f"`{default}`"
        variable = ENVIRONMENT.get(name) or Variable(shown, _rst(shop_texts.get(name, "")))
        readers = ", ".join(reader for reader in found[name] if reader != "tests")
        lines.append(f"| `{name}` | {readers} | {variable.default} | {_cell(variable.meaning)} |")
    if tests:
        lines += [
            "",
            "For the project's own test suite:",
            "",
            "| Variable | Default | Meaning |",
            "|---|---|---|",
        ]
        for name in sorted(tests, key=lambda item: (order.get(item, len(order)), item)):
            variable = ENVIRONMENT.get(name, Variable("", ""))
            lines.append(f"| `{name}` | {variable.default} | {variable.meaning} |")
    return "\n".join(lines)


def _rst(text: str) -> str:
    """The reST inline markup of a docstring as Markdown: roles as code."""
    return re.sub(r":[a-z]+:`~?\.?([^`]+)`", r"`\1`", text)


def metrics_table() -> str:
    """The metrics of ``/metrics``, read from the service's source (name and help text)."""
    source = SERVICE.read_text(encoding="utf-8")
    found = re.findall(
        r"(Counter|Histogram|GaugeMetricFamily|CounterMetricFamily)\(\s*\"(tradein_[a-z_]+)\",\s*\"([^\"]+)\"",
        source,
    )
    if not found:
        log.warning("docs: no metric found in %s", SERVICE)
    lines = ["| Metric | Type | Meaning |", "|---|---|---|"]
    for kind, name, text in found:
        counter = kind.startswith("Counter")
        shown = f"{name}_total" if counter else name
        label = "counter" if counter else "histogram" if kind == "Histogram" else "gauge"
        lines.append(f"| `{shown}` | {label} | {text} |")
    return "\n".join(lines)


def orders_state_diagram() -> str:
    """The order state machine as Mermaid, from the transition table."""
    from tradein_sdk import transitions_mermaid  # noqa: PLC0415 - imported when the site is built

    return f"```mermaid\n{transitions_mermaid().rstrip()}\n```"


def orders_transition_table() -> str:
    """The transition table: event, from, to, who, guards and meaning."""
    from tradein_sdk._domain.orders.machine import transition_table  # noqa: PLC0415

    lines = ["| Event | From | To | Who | Guards | Meaning |", "|---|---|---|---|---|---|"]
    for row in transition_table():
        sources = ", ".join(f"`{state.value}`" for state in row.sources)
        actors = ", ".join(actor.value for actor in row.actors)
        guards = ", ".join(f"`{guard.name}`" for guard in row.guards)
        lines.append(
            f"| `{row.event.value}` | {sources} | `{row.target.value}` | {actors} | {guards} "
            f"| {_cell(row.description)} |"
        )
    return "\n".join(lines)


GENERATED_PARTS: Final[Mapping[str, Callable[[], str]]] = {
    "orders-state-diagram": orders_state_diagram,
    "orders-transition-table": orders_transition_table,
    "environment-variables": environment_table,
    "metrics": metrics_table,
}


# == MkDocs events ===========================================================================================


SECTIONS: Final = ("reference/api/", "reference/http/", "reference/documents/")
"""Folders of generated pages: the nav lists each folder's ``index.md``; :func:`on_config` adds the others."""

_PAGES: dict[str, str] = {}
"""The generated pages of the build under way, by path in the docs folder."""


def generated_pages() -> dict[str, str]:
    """Every generated page (the changelog aside) by its path in the docs folder."""
    pages: dict[str, str] = {}
    for folder, made in zip(SECTIONS, (api_pages(), http_pages(), document_pages()), strict=True):
        pages.update({f"{folder}{name}": content for name, content in made.items()})
    pages["reference/errors.md"] = errors_page()
    pages["reference/cli.md"] = cli_page()
    return pages


def _title(markdown: str) -> str:
    first = markdown.split("\n", 1)[0]
    return first.removeprefix("# ").strip("`") if first.startswith("# ") else "Untitled"


def expand_nav(nav: list[Any], pages: Mapping[str, str]) -> list[Any]:
    """The nav with each generated folder's pages listed after its ``index.md``."""
    expanded: list[Any] = []
    for item in nav:
        if isinstance(item, dict) and len(item) == 1:
            ((title, value),) = item.items()
            if isinstance(value, list):
                expanded.append({title: expand_nav(value, pages)})
                continue
            folder = next((folder for folder in SECTIONS if value == f"{folder}index.md"), None)
            if folder is not None:
                others = [
                    {_title(content): path}
                    for path, content in pages.items()
                    if path.startswith(folder) and path != value
                ]
                expanded.append({title: [value, *others]})
                continue
        expanded.append(item)
    return expanded


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Generate the reference pages once per build and list them in the nav."""
    _PAGES.clear()
    _PAGES.update(generated_pages())
    if config.nav is not None:
        config.nav = expand_nav(config.nav, _PAGES)
    return config


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Add the generated reference pages and the changelog to the site."""
    generated = [File.generated(config, path, content=content) for path, content in _PAGES.items()]
    generated.append(File.generated(config, "changelog.md", abs_src_path=str(CHANGELOG)))
    for file in generated:
        existing = files.get_file_from_path(file.src_uri)
        if existing is not None:
            log.warning("docs: %s is generated; remove the file of that name from docs/", file.src_uri)
            files.remove(existing)
        files.append(file)
    return files


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:  # noqa: ARG001 - MkDocs' event signature
    """Fill the ``<!-- generated: NAME -->`` lines of a hand-written page."""

    def fill(match: re.Match[str]) -> str:
        part = GENERATED_PARTS.get(match["name"])
        if part is None:
            log.warning("%s asks for an unknown generated part %r", page.file.src_uri, match["name"])
            return match[0]
        return textwrap.indent(part(), match["indent"])

    return MARKER.sub(fill, markdown)
