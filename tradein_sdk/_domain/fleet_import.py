"""Fleet asset lists: a company's used phones and tablets, read from a CSV or XLSX file, cell by cell.

A company returning its fleet sends the list its asset management exports: one device per row, with the
model as people write it (``iPhone 13 128GB``, ``Galaxy S23``, a catalog id), an IMEI or serial number, its
inventory number and cost centre, whether the MDM / Activation Lock was released, a condition, and perhaps
the purchase date and book value. :func:`read_assets` reads such a list as office software writes it:

- **CSV** in UTF-8 (with or without the byte order mark Excel writes), UTF-16 (Excel's "Unicode text"), or
  Windows-1252 (older German Excel); separated by ``;`` (German Excel), ``,`` or tab, whichever the header
  row uses (or Excel's ``sep=;`` first line says); quoted fields may hold separators and line breaks.
- **XLSX** (the first worksheet), through openpyxl, the optional extra ``tradein-sdk[fleet]``. Numbers
  Excel keeps as floats lose no digit (an IMEI stored as a number is read back as its 15 digits) and date
  cells become dates.

Headers are matched ignoring case, spaces, underscores and hyphens, in English or German (``IMEI``,
``Seriennummer``, ``Modell``, ``Speicher``, ``Inventarnummer``, ``Kostenstelle``, ``Sperre aufgehoben``,
``Zustand``, ``Kaufdatum``, ``Buchwert``); other columns are ignored. Values are read the same way: German
dates (``31.12.2023``) and ISO dates, decimal commas and thousands separators (``1.234,56``, ``€ 12,50``),
``ja``/``nein``, German condition words and letter grades.

A model cell is resolved as a catalog variant or model id (in any case); else as a model's exact name or
alias, perhaps followed by a storage size (``Galaxy S20 5G``, ``iPhone 13 128GB``); else by the catalog's
search, whose best hit is taken unless nothing matches (``unknown_model``) or another model scores within
5 % of it (``ambiguous_model``). The storage column picks the model's variant (``missing_storage``,
``unknown_storage``; ``storage_mismatch`` when it contradicts the storage the model cell names).

Nothing is refused as a whole: every cell that cannot be read becomes an :class:`ImportProblem` naming the
spreadsheet's row number (the header is row 1, blank rows count) and the column as written in the file, and
its row is left out of :attr:`AssetImport.rows`; the other rows are kept as read. Only a missing required
column, an unreadable file or too many rows leave no rows at all. :meth:`AssetImport.raise_for_problems`
turns the problems into an :class:`~tradein_sdk._errors.AssetImportError` for callers that take a list
only when it is clean.

Model names are resolved once per distinct (text, storage) and IMEIs are checked against the catalog's TACs
once per TAC, so a list of 100,000 devices of a few dozen models reads in seconds.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Mapping
from contextlib import closing
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from tradein_sdk._domain.devices import DeviceModel
from tradein_sdk._domain.identifiers import normalize_serial_number, parse_imei
from tradein_sdk._domain.search import tokens
from tradein_sdk._errors import (
    AssetImportError,
    DeviceNotFoundError,
    FleetError,
    ImportProblem,
    InvalidIMEIError,
    InvalidSerialNumberError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator, Sequence

    from tradein_sdk._domain.catalog import Catalog

    _Records = Generator[tuple[int, Sequence[object]], None, None]

GRADES: Final = ("excellent", "good", "fair", "damaged", "faulty")
"""The pricing grades of the bundled questionnaires, best first."""

PROBLEM_CODES: Final = (
    "missing_column",
    "unreadable_file",
    "too_many_rows",
    "missing_model",
    "unknown_model",
    "ambiguous_model",
    "missing_storage",
    "invalid_storage",
    "unknown_storage",
    "storage_mismatch",
    "missing_identifier",
    "invalid_imei",
    "imei_model_mismatch",
    "invalid_serial_number",
    "duplicate",
    "invalid_boolean",
    "unknown_grade",
    "invalid_answers",
    "missing_condition",
    "invalid_date",
    "invalid_amount",
    "no_price",
)
"""Every code an :class:`~tradein_sdk._errors.ImportProblem` of an asset list can have (to translate them)."""
MAX_ROWS: Final = 200_000
"""How many data rows :func:`read_assets` reads at most, unless told otherwise."""

WHOLE_ROW: Final = "*"
"""The column a problem names when it concerns the whole row or file."""

_AMBIGUITY: Final = 0.95
"""A second model scoring at least this share of the best hit's score makes a model text ambiguous."""
_CANDIDATES: Final = 3
_TB: Final = 1024
_T = TypeVar("_T")


@attrs.frozen(kw_only=True)
class AssetRow:
    """One device of an asset list, read and checked.

    Attributes:
        row: the row number as the spreadsheet shows it (the header is row 1).
        variant_id: the catalog variant the model (and storage) cells name.
        model_text: the model cell as written (without surrounding spaces).
        imei: the IMEI, 15 digits without separators, its check digit verified.
        serial: the serial number, upper-case without separators; at least one of IMEI and serial is given.
        asset_tag: the company's inventory number of the device.
        cost_centre: the cost centre the device is booked on.
        lock_released: whether the company says the MDM enrolment / Activation Lock was released
            (``False`` when the list has no such column or the cell is empty).
        grade: the condition, one of :data:`GRADES`, when the list gives one (or the default grade applied).
        answers: the device's questionnaire answers, when the list gives them (a JSON object in the cell).
        purchase_date: when the company bought the device.
        book_value: its remaining value in the company's books.
    """

    row: int
    variant_id: str
    model_text: str
    imei: str | None = None
    serial: str | None = None
    asset_tag: str | None = None
    cost_centre: str | None = None
    lock_released: bool = False
    grade: str | None = None
    answers: Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    purchase_date: date | None = None
    book_value: Decimal | None = None


@attrs.frozen(kw_only=True)
class AssetImport:
    """What :func:`read_assets` made of an asset list.

    Attributes:
        rows: the rows without problems, in file order.
        problems: every rejected cell, in file order (by row, then by column).
        rows_read: how many data rows were read (blank rows are skipped and not counted).
        source_format: ``csv`` or ``xlsx``.
        columns: the headers as found in the file, in their order.
    """

    rows: tuple[AssetRow, ...]
    problems: tuple[ImportProblem, ...]
    rows_read: int
    source_format: str
    columns: tuple[str, ...]

    @property
    def rejected_rows(self) -> tuple[int, ...]:
        """The numbers of the rows with at least one problem, in file order."""
        return tuple(dict.fromkeys(problem.row for problem in self.problems))

    def raise_for_problems(self) -> None:
        """Raise when any row or cell was rejected.

        Raises:
            AssetImportError: listing every problem with its row and column.
        """
        if self.problems:
            raise AssetImportError(self.problems)


def read_assets(
    data: bytes,
    *,
    catalog: Catalog,
    filename: str | None = None,
    default_grade: str | None = None,
    max_rows: int = MAX_ROWS,
) -> AssetImport:
    r"""Read a CSV or XLSX asset list (format from the filename's suffix, else sniffed: XLSX is a zip).

    A workbook is recognised by the zip signature ``PK\x03\x04`` its bytes start with.

    Args:
        data: the file's bytes.
        catalog: the catalog the model cells are resolved against (and IMEIs checked with, by TAC).
        filename: the file's name as uploaded; ``.xlsx``/``.xlsm`` is read as a workbook, ``.csv``,
            ``.tsv`` and ``.txt`` as text; any other name (or none) is sniffed from the content.
        default_grade: the grade of rows that give neither a grade nor answers; without it such rows are
            rejected (``missing_condition``).
        max_rows: more data rows than this reject the whole list (``too_many_rows``).

    Returns:
        The rows read and the problems found; see the module docstring.

    Raises:
        ValueError: ``default_grade`` is not one of :data:`GRADES`, or ``max_rows`` is below 1.
        FleetError: the file is a workbook and openpyxl (``tradein-sdk[fleet]``) is not installed.
    """
    if default_grade is not None and default_grade not in GRADES:
        raise ValueError(f"default_grade must be one of {', '.join(GRADES)}, not {default_grade!r}")
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, not {max_rows}")
    source_format = _format_of(data, filename)
    importer = _Importer(
        catalog=catalog, default_grade=default_grade, max_rows=max_rows, source_format=source_format
    )
    try:
        records = _xlsx_records(data) if source_format == "xlsx" else _csv_records(data)
        with closing(records):
            return importer.run(records)
    except _UnreadableFileError as exc:
        problem = ImportProblem(row=1, column=WHOLE_ROW, code="unreadable_file", message=str(exc))
        return AssetImport(rows=(), problems=(problem,), rows_read=0, source_format=source_format, columns=())


# -- the file formats ----------------------------------------------------------------------------------------

_ZIP_MAGIC: Final = b"PK\x03\x04"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_XLSX_SUFFIXES: Final = frozenset({".xlsx", ".xlsm"})
_CSV_SUFFIXES: Final = frozenset({".csv", ".tsv", ".txt"})
_DELIMITERS: Final = (";", "\t", ",")
"""The separators a CSV header row is tried with; on a tie the earlier wins (German Excel writes ``;``)."""


_SEPARATOR_LINE: Final = re.compile(r"sep=(.)[ \t]*(?:\r\n|\r|\n)", re.IGNORECASE)


class _UnreadableFileError(Exception):
    """The file is not a CSV or XLSX file that can be read (the message says why)."""


def _format_of(data: bytes, filename: str | None) -> str:
    suffix = PurePath(filename).suffix.lower() if filename else ""
    if suffix in _XLSX_SUFFIXES:
        return "xlsx"
    if suffix in _CSV_SUFFIXES:
        return "csv"
    return "xlsx" if data.startswith(_ZIP_MAGIC) else "csv"


def _decode(data: bytes) -> str:
    """Decode a CSV file: UTF-16 or UTF-8 by their byte order marks, UTF-8 without, else Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _UnreadableFileError(f"the file starts as UTF-16 text but is not: {exc.reason}") from exc
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    """The separator that splits the header row (the first non-blank line) into the most columns."""
    header = next((line for line in io.StringIO(text) if line.strip()), "").rstrip("\r\n")
    counts = {
        delimiter: len(next(csv.reader([header], delimiter=delimiter), [])) for delimiter in _DELIMITERS
    }
    return max(_DELIMITERS, key=lambda delimiter: counts[delimiter])


def _csv_records(data: bytes) -> _Records:
    """Yield each record of a CSV file with its row number (blank lines yield empty records)."""
    if data.startswith(_OLE_MAGIC):
        raise _UnreadableFileError(
            "the file is an Excel 97-2003 workbook (.xls); save it as .xlsx or as CSV and upload it again"
        )
    text = _decode(data)
    declared = _SEPARATOR_LINE.match(text)
    if declared is not None:
        # Excel's own hint (``sep=;``): it names the separator and is not shown as a row.
        text = text[declared.end() :]
    delimiter = declared[1] if declared is not None else _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            yield number, record
    except csv.Error as exc:
        raise _UnreadableFileError(f"the CSV text cannot be read after row {number}: {exc}") from exc


def _xlsx_records(data: bytes) -> _Records:
    """Yield each row of a workbook's first worksheet with its row number, through openpyxl.

    Raises:
        FleetError: openpyxl is not installed.
    """
    try:
        import openpyxl  # noqa: PLC0415 - an optional extra, needed for workbooks only
    except ImportError as exc:
        raise FleetError(
            "reading XLSX asset lists needs openpyxl: install tradein-sdk[fleet] (or upload the list as CSV)"
        ) from exc
    return _worksheet_rows(openpyxl, data)


def _worksheet_rows(openpyxl: Any, data: bytes) -> _Records:  # noqa: ANN401 - the module, untyped
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged workbook raises anything: zipfile, XML, openpyxl
        raise _UnreadableFileError(f"the file is not a readable XLSX workbook ({exc})") from exc
    try:
        if not workbook.worksheets:
            return
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # read every cell, whatever size the writing program recorded
        yield from enumerate(sheet.iter_rows(values_only=True), start=1)
    except Exception as exc:
        raise _UnreadableFileError(f"the worksheet cannot be read ({exc})") from exc
    finally:
        workbook.close()


# -- the columns ---------------------------------------------------------------------------------------------

_COLUMN_ALIASES: Final = {
    "imei": ("imei", "imeinummer", "imeinumber", "imei1"),
    "serial": ("serial", "serialnumber", "serialno", "seriennummer", "seriennr", "sn"),
    "model": ("model", "modell", "device", "gerät", "geraet", "devicemodel", "modelname", "gerätemodell"),
    "storage": ("storage", "speicher", "storagegb", "speichergb", "capacity", "kapazität", "speicherplatz"),
    "asset_tag": ("assettag", "inventarnummer", "asset", "assetid", "assetnumber", "inventarnr"),
    "cost_centre": ("costcentre", "costcenter", "kostenstelle"),
    "lock_released": (
        "lockreleased",
        "mdmreleased",
        "activationlockreleased",
        "sperreaufgehoben",
        "mdmfreigegeben",
    ),
    "grade": ("grade", "zustand", "condition"),
    "answers": ("answers", "antworten"),
    "purchase_date": ("purchasedate", "kaufdatum", "anschaffungsdatum"),
    "book_value": ("bookvalue", "buchwert", "restwert", "netbookvalue"),
}
_FIELD_OF_HEADER: Final = {alias: field for field, aliases in _COLUMN_ALIASES.items() for alias in aliases}
_HEADER_NOISE: Final = re.compile(r"[\s_\-./:*()]+")


def _header_key(header: str) -> str:
    """``Serial_Number`` → ``serialnumber``, ``Sperre aufgehoben`` → ``sperreaufgehoben``."""
    return _HEADER_NOISE.sub("", header.casefold())


def _columns(cells: Sequence[object]) -> tuple[str, ...]:
    headers = [_cell_text(cell).lstrip("\ufeff").strip() for cell in cells]
    while headers and not headers[-1]:
        headers.pop()
    return tuple(headers)


# -- the cells -----------------------------------------------------------------------------------------------


def _cell_text(value: object) -> str:  # noqa: PLR0911 - one return per kind of cell reads best
    """A cell as text: numbers without a lost digit or a trailing ``.0``, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return format(value, "d")
    if isinstance(value, float):
        return format(int(value), "d") if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _is_blank(cells: Sequence[object]) -> bool:
    return all(not _cell_text(cell) for cell in cells)


def _storage_label(storage_gb: int) -> str:
    if storage_gb >= _TB and storage_gb % _TB == 0:
        return f"{storage_gb // _TB} TB"
    return f"{storage_gb} GB"


def _storage_options(model: DeviceModel) -> str:
    return ", ".join(_storage_label(variant.storage_gb) for variant in model.variants)


_STORAGE: Final = re.compile(r"(\d+(?:[.,]\d+)?)\s*(gib|gb|go|g|tib|tb|to|t)?", re.IGNORECASE)


def _storage_gb(value: object) -> int | None:
    """``128 GB``, ``128``, ``1 TB``, ``1TB``, ``1,5 TB`` → GB; ``None`` when it is no storage size."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        size = Decimal(_cell_text(value))
    else:
        match = _STORAGE.fullmatch(_cell_text(value))
        if match is None:
            return None
        size = Decimal(match[1].replace(",", "."))
        if (match[2] or "").lower().startswith("t"):
            size *= _TB
    if not size.is_finite() or size <= 0 or size != size.to_integral_value():
        return None
    return int(size)


_TRUE: Final = frozenset({"yes", "y", "ja", "j", "true", "wahr", "1", "x", "✓", "✔"})
_FALSE: Final = frozenset({"no", "n", "nein", "false", "falsch", "0", ""})


def _boolean(value: object) -> bool | None:
    """Yes/no in English or German, true/false, 1/0, ``x``/empty; ``None`` when it is none of them."""
    if isinstance(value, bool):
        return value
    text = _cell_text(value).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


_GRADE_WORDS: Final = {
    **{grade: grade for grade in GRADES},
    **dict(zip("abcde", GRADES, strict=True)),
    "like new": "excellent",
    "sehr gut": "excellent",
    "wie neu": "excellent",
    "neuwertig": "excellent",
    "gut": "good",
    "befriedigend": "fair",
    "akzeptabel": "fair",
    "ausreichend": "fair",
    "gebraucht": "fair",
    "beschädigt": "damaged",
    "beschaedigt": "damaged",
    "defekt": "faulty",
    "kaputt": "faulty",
    "broken": "faulty",
}
_GRADE_NOISE: Final = re.compile(r"[\s_\-]+")


def _grade(text: str) -> str | None:
    """``Sehr gut`` → ``excellent``, ``B`` → ``good``; ``None`` when it is no grade."""
    return _GRADE_WORDS.get(_GRADE_NOISE.sub(" ", text.casefold()).strip())


_JSON_KINDS: Final[dict[type, str]] = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "true or false",
    type(None): "null",
}


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _answers(text: str) -> Mapping[str, Any] | str:
    """The JSON object in the cell, or what is wrong with it."""
    try:
        answers = json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        return f"{exc.msg} at character {exc.pos + 1}"
    except ValueError as exc:
        return str(exc)
    if not isinstance(answers, dict):
        return f"it is a JSON {_JSON_KINDS.get(type(answers), 'value')}, not an object"
    return answers


_GERMAN_DATE: Final = re.compile(r"(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{4}|\d{2})")
_EXCEL_EPOCH: Final = date(1899, 12, 30)
_EXCEL_LAST_DAY: Final = 2_958_465  # 9999-12-31


def _date(value: object) -> date | None:
    """A date cell, an Excel day number, ``2023-12-31`` or ``31.12.2023``; ``None`` when it is no date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A workbook date cell that lost its date format keeps Excel's day number.
        return _EXCEL_EPOCH + timedelta(days=int(value)) if 1 <= value <= _EXCEL_LAST_DAY else None
    return _text_date(_cell_text(value))


def _text_date(text: str) -> date | None:
    match = _GERMAN_DATE.fullmatch(text)
    try:
        if match is not None:
            year = int(match[3]) + (2000 if len(match[3]) == 2 else 0)
            return date(year, int(match[2]), int(match[1]))
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


_CURRENCY: Final = re.compile(r"€|\$|£|\b(?:eur|euro|usd|gbp|chf)\b", re.IGNORECASE)
_AMOUNT_SPACES: Final = re.compile(r"[\s'’\u00a0\u202f]+")
_GROUPED: Final = re.compile(r"\d{1,3}([.,])\d{3}(?:\1\d{3})*")
"""Digits in groups of three: 1.234, 1,234,567."""
_DECIMAL: Final = re.compile(r"(\d+|\d{1,3}(?:([.,])\d{3})+)(?:([.,])(\d+))?")
"""An integer part (plain, or grouped by one thousands separator), then a decimal mark and decimals."""


def _amount(value: object) -> Decimal | None:
    """``1.234,56``, ``1,234.56``, ``1234.56``, ``€ 12,50`` → Decimal; ``None`` when it is no amount."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A workbook number: a float's shortest text is the value as typed (0.1 stays 0.1).
        number = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
        return number if number.is_finite() and number >= 0 else None
    text = _AMOUNT_SPACES.sub("", _CURRENCY.sub("", _cell_text(value)))
    grouped = _GROUPED.fullmatch(text)
    if grouped is not None and not text.startswith("0"):
        # 1.234 / 1,234 / 1.234.567: thousands separators only (an amount has no third decimal).
        return Decimal(text.replace(grouped[1], ""))
    match = _DECIMAL.fullmatch(text)
    if match is None or (match[2] is not None and match[2] == match[3]):
        return None
    integer = match[1].replace(match[2], "") if match[2] else match[1]
    return Decimal(f"{integer}.{match[4]}" if match[4] else integer)


_SCIENTIFIC: Final = re.compile(r"\d(?:[.,]\d+)?e\+?\d+", re.IGNORECASE)
_TRAILING_ZERO_DECIMALS: Final = re.compile(r"(\d{15})[.,]0+")


def _imei_text(value: object) -> str:
    """The IMEI cell as text, without an Excel text marker (``'``) or a trailing ``.0``."""
    text = _cell_text(value).removeprefix("'")
    match = _TRAILING_ZERO_DECIMALS.fullmatch(text)
    return match[1] if match else text


# -- the rows ------------------------------------------------------------------------------------------------


@attrs.frozen
class _Match:
    model: DeviceModel
    variant_id: str


@attrs.frozen
class _Miss:
    field: str
    code: str
    message: str


class _Importer:
    """Reads the records of one file into rows and problems."""

    def __init__(
        self, *, catalog: Catalog, default_grade: str | None, max_rows: int, source_format: str
    ) -> None:
        self._catalog = catalog
        self._default_grade = default_grade
        self._max_rows = max_rows
        self._source_format = source_format
        self._columns: tuple[str, ...] = ()
        self._index: dict[str, int] = {}
        self._resolutions: dict[tuple[str, int | None], _Match | _Miss] = {}
        self._tac_models: dict[str, DeviceModel | None] = {}
        self._names: dict[str, DeviceModel] | None = None
        self._first_seen: dict[tuple[str, str], int] = {}
        self._rows: list[AssetRow] = []
        self._problems: list[ImportProblem] = []
        self._rows_read = 0

    def run(self, records: Iterator[tuple[int, Sequence[object]]]) -> AssetImport:
        """Read the header, then every data row."""
        header = next(((number, cells) for number, cells in records if not _is_blank(cells)), None)
        if header is None:
            self._problems.append(
                ImportProblem(
                    row=1,
                    column=WHOLE_ROW,
                    code="missing_column",
                    message="the asset list is empty: it has no header row",
                )
            )
            return self._result()
        self._read_header(*header)
        if self._problems:
            return self._result()
        for number, cells in records:
            if _is_blank(cells):
                continue
            self._rows_read += 1
            if self._rows_read > self._max_rows:
                self._rows.clear()
                self._problems.append(
                    ImportProblem(
                        row=number,
                        column=WHOLE_ROW,
                        code="too_many_rows",
                        message=f"the asset list has more than {self._max_rows:,} rows; "
                        "split it into several lists",
                    )
                )
                break
            self._read_row(number, cells)
        return self._result()

    def _result(self) -> AssetImport:
        return AssetImport(
            rows=tuple(self._rows),
            problems=tuple(self._problems),
            rows_read=self._rows_read,
            source_format=self._source_format,
            columns=self._columns,
        )

    def _read_header(self, number: int, cells: Sequence[object]) -> None:
        self._columns = _columns(cells)
        for position, header in enumerate(self._columns):
            field = _FIELD_OF_HEADER.get(_header_key(header))
            if field is not None:
                self._index.setdefault(field, position)
        if "model" not in self._index:
            self._problems.append(
                ImportProblem(
                    row=number,
                    column="model",
                    code="missing_column",
                    message="the asset list has no model column (model, Modell, device or Gerät)",
                )
            )
        if "imei" not in self._index and "serial" not in self._index:
            self._problems.append(
                ImportProblem(
                    row=number,
                    column="imei",
                    code="missing_column",
                    message="the asset list has neither an IMEI nor a serial number column "
                    "(IMEI, serial, Seriennummer)",
                )
            )

    def _read_row(self, number: int, cells: Sequence[object]) -> None:
        row = _RowReader(number, cells, index=self._index, columns=self._columns)
        model_text = row.text("model")
        match = self._model(row, model_text)
        imei = self._imei(row, match)
        serial = self._serial(row, match)
        if imei is None and serial is None and not row.text("imei") and not row.text("serial"):
            row.reject(
                "imei" if "imei" in self._index else "serial",
                "missing_identifier",
                "the row has neither an IMEI nor a serial number",
            )
        asset_tag = row.text("asset_tag") or None
        self._check_unique(row, "imei", "IMEI", imei)
        self._check_unique(row, "serial", "serial number", serial)
        self._check_unique(row, "asset_tag", "asset tag", asset_tag)
        lock_released = _boolean(row.raw("lock_released"))
        if lock_released is None:
            row.reject(
                "lock_released",
                "invalid_boolean",
                f"“{row.text('lock_released')}” is not yes or no "
                "(yes/no, ja/nein, true/false, 1/0, x or empty)",
            )
        grade, answers = self._condition(row)
        purchase_date = self._optional(
            row, "purchase_date", _date, "invalid_date", "a date (2023-12-31 or 31.12.2023)"
        )
        book_value = self._optional(
            row, "book_value", _amount, "invalid_amount", "an amount (1234.56 or 1.234,56)"
        )
        if row.problems:
            row.problems.sort(key=lambda item: item[0])
            self._problems.extend(problem for _, problem in row.problems)
            return
        assert match is not None  # noqa: S101 - a row without a model has a problem
        self._rows.append(
            AssetRow(
                row=number,
                variant_id=match.variant_id,
                model_text=model_text,
                imei=imei,
                serial=serial,
                asset_tag=asset_tag,
                cost_centre=row.text("cost_centre") or None,
                lock_released=bool(lock_released),
                grade=grade,
                answers=answers,
                purchase_date=purchase_date,
                book_value=book_value,
            )
        )

    # -- the cells of a row, field by field ------------------------------------------------------------------

    def _model(self, row: _RowReader, model_text: str) -> _Match | None:
        if not model_text:
            row.reject("model", "missing_model", "the model is missing")
            return None
        storage_text = row.text("storage")
        storage = None
        if storage_text:
            storage = _storage_gb(row.raw("storage"))
            if storage is None:
                row.reject(
                    "storage", "invalid_storage", f"“{storage_text}” is not a storage size (128 GB, 1 TB)"
                )
                return None
        key = (model_text, storage)
        resolution = self._resolutions.get(key)
        if resolution is None:
            resolution = self._resolutions[key] = self._resolve(model_text, storage)
        if isinstance(resolution, _Miss):
            row.reject(resolution.field, resolution.code, resolution.message)
            return None
        return resolution

    def _resolve(self, text: str, storage: int | None) -> _Match | _Miss:
        """Resolve a model cell (and storage): a catalog id, an exact model name, else the search."""
        found = self._lookup(text) or self._exact_name(text)
        if found is None:
            searched = self._search(text)
            if isinstance(searched, _Miss):
                return searched
            found = searched
        model, named_storage = found
        return _variant_of(model, named_storage, storage, text)

    def _lookup(self, text: str) -> tuple[DeviceModel, int | None] | None:
        """The model (and the storage of the variant) whose catalog id the cell holds, in any case."""
        if " " in text:
            return None
        for candidate in dict.fromkeys((text, text.casefold())):
            try:
                entry = self._catalog.lookup(candidate)
            except DeviceNotFoundError:
                continue
            return entry.model, entry.variant.storage_gb if entry.variant is not None else None
        return None

    def _exact_name(self, text: str) -> tuple[DeviceModel, int | None] | None:
        """The model whose name (or alias) the cell holds word for word, perhaps followed by a storage size.

        Exact names come before the search, which ranks them no higher than longer names that contain them
        (``Galaxy Tab S9`` against ``Galaxy Tab S9+``).
        """
        if self._names is None:
            self._names = _model_names(self._catalog.models)
        model = self._names.get(_name_key(text))
        if model is not None:
            return model, None
        match = _TRAILING_STORAGE.fullmatch(text)
        if match is not None:
            model = self._names.get(_name_key(match[1]))
            storage = _storage_gb(match[2])
            if model is not None and storage is not None:
                return model, storage
        return None

    def _search(self, text: str) -> tuple[DeviceModel, int | None] | _Miss:
        """The catalog's best hit for the text, unless there is none or a second one scores about as well."""
        # The text alone decides the model (a storage size would lift every model that has it); the storage
        # cell then picks the variant.
        hits = self._catalog.search(text, limit=_CANDIDATES + 1)
        if not hits:
            return _Miss("model", "unknown_model", f"“{text}” matches no device of the catalog")
        best = hits[0]
        close = [
            hit
            for hit in hits[1:]
            if hit.model.id != best.model.id and round(hit.score / best.score, 6) >= _AMBIGUITY
        ]
        if close:
            candidates = ", ".join(hit.id for hit in [best, *close][:_CANDIDATES])
            return _Miss(
                "model",
                "ambiguous_model",
                f"“{text}” could be several devices ({candidates}); "
                "write the full model name or a catalog id",
            )
        return best.model, best.variant.storage_gb if best.variant is not None else None

    def _imei(self, row: _RowReader, match: _Match | None) -> str | None:
        raw = row.raw("imei")
        text = _imei_text(raw)
        if not text:
            return None
        if _SCIENTIFIC.fullmatch(text):
            row.reject(
                "imei",
                "invalid_imei",
                f"“{text}” is an IMEI shortened to a number in scientific notation: "
                "its last digits are lost; format the column as text and export the list again",
            )
            return None
        if isinstance(raw, int | float) and len(text) == 14:
            # A number cannot keep the IMEI's leading zero.
            text = "0" + text
        try:
            imei = parse_imei(text).value
        except InvalidIMEIError as exc:
            row.reject("imei", "invalid_imei", str(exc))
            return None
        owner = self._imei_model(imei)
        if match is not None and owner is not None and owner.id != match.model.id:
            row.reject(
                "imei",
                "imei_model_mismatch",
                f"IMEI {imei} belongs to a {owner.display_name}, not to the {match.model.display_name} "
                "the row names",
            )
        return imei

    def _imei_model(self, imei: str) -> DeviceModel | None:
        """The model the IMEI's TAC names in the catalog (looked up once per TAC)."""
        tac = imei[:8]
        if tac not in self._tac_models:
            try:
                self._tac_models[tac] = self._catalog.model_for_imei(imei)
            except DeviceNotFoundError:
                self._tac_models[tac] = None
        return self._tac_models[tac]

    def _serial(self, row: _RowReader, match: _Match | None) -> str | None:
        text = row.text("serial")
        if not text:
            return None
        try:
            return normalize_serial_number(text, brand=match.model.brand if match is not None else None)
        except InvalidSerialNumberError as exc:
            message = str(exc)
            row.reject(
                "serial", "invalid_serial_number", message if text in message else f"“{text}”: {message}"
            )
            return None

    def _check_unique(self, row: _RowReader, field: str, label: str, value: str | None) -> None:
        """Reject a value a row above already had (remembering where each value was first seen)."""
        if value is None:
            return
        first = self._first_seen.setdefault((field, value.casefold()), row.number)
        if first != row.number:
            row.reject(
                field, "duplicate", f"“{row.text(field)}” is listed twice: same {label} as row {first}"
            )

    def _condition(self, row: _RowReader) -> tuple[str | None, Mapping[str, Any] | None]:
        grade_text, answers_text = row.text("grade"), row.text("answers")
        grade = answers = None
        if grade_text:
            grade = _grade(grade_text)
            if grade is None:
                row.reject(
                    "grade",
                    "unknown_grade",
                    f"“{grade_text}” is not a grade: use {', '.join(GRADES)} (or A–E, sehr gut, gut, "
                    "befriedigend, beschädigt, defekt)",
                )
        if answers_text:
            parsed = _answers(answers_text)
            if isinstance(parsed, str):
                shown = answers_text if len(answers_text) <= 40 else answers_text[:39] + "…"
                row.reject(
                    "answers", "invalid_answers", f"“{shown}” is not a JSON object of answers: {parsed}"
                )
            else:
                answers = parsed
        if not grade_text and not answers_text:
            if self._default_grade is None:
                row.reject(
                    "grade",
                    "missing_condition",
                    "the row gives neither a grade nor answers, and no default grade was chosen",
                )
            grade = self._default_grade
        return grade, answers

    def _optional(
        self, row: _RowReader, field: str, parse: Callable[[object], _T | None], code: str, expected: str
    ) -> _T | None:
        text = row.text(field)
        if not text:
            return None
        value = parse(row.raw(field))
        if value is None:
            row.reject(field, code, f"“{text}” is not {expected}")
        return value


def _variant_of(model: DeviceModel, named: int | None, storage: int | None, text: str) -> _Match | _Miss:
    """The variant with the storage the model cell names or the storage cell gives, or the only one."""
    if named is not None and storage is not None and named != storage:
        return _Miss(
            "storage",
            "storage_mismatch",
            f"“{text}” names {_storage_label(named)}, but the storage cell says {_storage_label(storage)}",
        )
    wanted = named if named is not None else storage
    if wanted is not None:
        variant = next((variant for variant in model.variants if variant.storage_gb == wanted), None)
        if variant is None:
            return _Miss(
                "storage" if storage is not None else "model",
                "unknown_storage",
                f"{model.display_name} has no {_storage_label(wanted)} variant; "
                f"it comes with {_storage_options(model)}",
            )
        return _Match(model, variant.id)
    if len(model.variants) == 1:
        return _Match(model, model.variants[0].id)
    return _Miss(
        "storage",
        "missing_storage",
        f"“{text}” does not say which storage of the {model.display_name}: {_storage_options(model)}",
    )


_TRAILING_STORAGE: Final = re.compile(
    r"(.*?\S)[\s,(/-]*(\d+(?:[.,]\d+)?\s*(?:gib|gb|go|g|tib|tb|to|t))\)?\s*", re.IGNORECASE
)
"""A model name followed by a storage size: ``iPhone 13 128GB``, ``Galaxy S23 (256 GB)``."""


def _name_key(text: str) -> str:
    """The words of a name as the search reads them: ``Galaxy S20+`` → ``galaxy s 20 plus``."""
    return " ".join(tokens(text))


def _model_names(models: Iterable[DeviceModel]) -> dict[str, DeviceModel]:
    """Each model by its name, brand and name, and aliases; a name two models share is left out."""
    names: dict[str, DeviceModel] = {}
    shared: set[str] = set()
    for model in models:
        for name in (model.name, model.display_name, *model.aliases):
            key = _name_key(name)
            if names.setdefault(key, model).id != model.id:
                shared.add(key)
    return {key: model for key, model in names.items() if key not in shared}


class _RowReader:
    """The cells of one data row by field, and the problems found in them (with their column positions)."""

    def __init__(
        self, number: int, cells: Sequence[object], *, index: Mapping[str, int], columns: Sequence[str]
    ) -> None:
        self.number = number
        self._cells = cells
        self._index = index
        self._columns = columns
        self.problems: list[tuple[int, ImportProblem]] = []

    def raw(self, field: str) -> object:
        """The cell of the field's column as read (``None`` without such a column or cell)."""
        position = self._index.get(field)
        if position is None or position >= len(self._cells):
            return None
        return self._cells[position]

    def text(self, field: str) -> str:
        """The cell as text, without surrounding spaces."""
        return _cell_text(self.raw(field))

    def reject(self, field: str, code: str, message: str) -> None:
        """Record a problem in the field's column (the model's column for a missing storage column)."""
        if field not in self._index and field == "storage":
            field = "model"
        position = self._index.get(field)
        if position is None:
            column, position = field, len(self._columns)
        else:
            column = self._columns[position]
        problem = ImportProblem(
            row=self.number, column=column, code=code, message=message, value=self.text(field)
        )
        self.problems.append((position, problem))
