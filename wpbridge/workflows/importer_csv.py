"""`wpbridge import` of a CSV: one row per membership (its customer, plan, add-ons and site).

A row's cells are validated by one pydantic model, `CsvRow`: one field per column (the columns a file may have are
the model's fields), every bad cell reported with its column name and what is wrong with it
(`line 14: amount 'fifteen' is not an amount >= 0 (e.g. 15 or 15.00)`). What needs other rows (a username given
for two emails, a site or source id given twice) is checked by `_CsvRows`, and what needs the catalog (plan and
add-on slugs, prices) by `importer_input.check_references`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, BinaryIO

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo

from ..errors import InputError
from ..models import parse_utc
from .importer_records import (
    EMAIL_RE,
    KEY_MAX,
    SITE_SEGMENT_RE,
    STATUSES,
    UNITS,
    USERNAME_RE,
    Issue,
    Source,
    SrcCustomer,
    SrcMembership,
    SrcSite,
    did_you_mean,
)

DATE_PROBLEM = "is not a date (YYYY-MM-DD or ISO 8601; UTC unless an offset is given)"


# --------------------------------------------------------------------------- one cell


def _matching(pattern: str | re.Pattern[str]) -> Callable[[str], str | None]:
    return lambda text: text if re.fullmatch(pattern, text) else None


def _amount(text: str) -> Decimal | None:
    amount = Decimal(text)
    return amount if amount.is_finite() and amount >= 0 else None


def _period(text: str) -> tuple[int, str] | None:
    match = re.fullmatch(r"\s*(\d+)\s*:\s*([a-zA-Z]+?)s?\s*", text)
    if match is None or int(match.group(1)) < 1 or match.group(2).lower() not in UNITS:
        return None
    return int(match.group(1)), match.group(2).lower()


def _site_segment(text: str) -> str:
    return text.strip().strip("/")


def _site_path(text: str) -> str | None:
    seg = _site_segment(text)
    return f"/{seg}/" if SITE_SEGMENT_RE.fullmatch(seg) and not seg.isdigit() else None


def _host(text: str) -> str | None:
    return text if re.fullmatch(r"[a-z0-9.-]+(:\d+)?", text.lower()) else None


def _short_id(text: str) -> str | None:
    return text if len(text) <= 150 else None


def parse_addons(text: str) -> tuple[dict[str, int], list[str]]:
    """`extra-storage:2;site-setup` -> ({slug: quantity}, the problems): a part without a quantity counts 1."""
    addons: dict[str, int] = {}
    problems: list[str] = []
    for raw in text.split(";"):
        part = raw.strip()
        if not part:
            continue
        slug, sep, qty_text = part.partition(":")
        slug = slug.strip()
        if not slug or (sep and not qty_text.strip().isdigit()) or (sep and int(qty_text) < 1):
            problems.append(f"addons {part!r} is not slug:quantity (e.g. extra-storage:2)")
        elif slug in addons:
            problems.append(f"addons names {slug!r} twice")
        else:
            addons[slug] = int(qty_text) if sep else 1
    return addons, problems


def _addons(text: str) -> dict[str, int] | None:
    addons, problems = parse_addons(text)
    if problems:
        raise ValueError("; ".join(problems))
    return addons


def _cell(parse: Callable[[str], Any], problem: str, *, say_value: bool = True) -> BeforeValidator:
    """A cell read by `parse` (None, or an error, when the text is not what the column holds): the message is
    "{column} {text!r} {problem}" (`say_value=False`: "{column} {problem}")."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value  # a value given in Python, already of its type
        try:
            parsed = parse(value)
        except (ValueError, ArithmeticError):
            if not problem:
                raise  # the parser's own words (add-ons: every bad part of the cell)
            parsed = None
        if parsed is None:
            shown = f" {value!r}" if say_value else ""
            raise ValueError(f"{info.field_name}{shown} {problem}")
        return parsed

    return BeforeValidator(check)


# --------------------------------------------------------------------------- one row


class CsvRow(BaseModel):
    """One row's cells, validated (an empty cell is not given). The fields, in order, are the file's columns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: Annotated[str, _cell(_matching(EMAIL_RE), "is not an email address")]
    username: Annotated[str | None, _cell(_matching(USERNAME_RE), "must be 4 to 60 lowercase letters or digits")] = None
    plan: str
    period: Annotated[tuple[int, str] | None, _cell(_period, "is not N:unit (e.g. 1:month, 1:year)")] = None
    amount: Annotated[Decimal | None, _cell(_amount, "is not an amount >= 0 (e.g. 15 or 15.00)")] = None
    currency: Annotated[str | None, _cell(_matching(r"[A-Z]{3}"), "is not a 3-letter code (e.g. USD)")] = None
    status: Annotated[str, _cell(lambda s: s if s in STATUSES else None,
                                 f"is not one of {', '.join(STATUSES)}")] = "active"
    date_created: Annotated[datetime | None, _cell(parse_utc, DATE_PROBLEM)] = None
    date_expiration: Annotated[datetime | None, _cell(parse_utc, DATE_PROBLEM)] = None
    addons: Annotated[dict[str, int], _cell(_addons, "")] = Field(default_factory=dict)
    site_path: Annotated[str | None, _cell(_site_path, "must be one segment of a-z, 0-9 and - (e.g. /alice/)")] = None
    site_domain: Annotated[str | None, _cell(_host, "is not a host name")] = None
    site_title: str | None = None
    gateway: str | None = None
    gateway_customer_id: str | None = None
    gateway_subscription_id: str | None = None
    source_id: Annotated[str | None, _cell(_short_id, "is longer than 150 characters", say_value=False)] = None

    def membership_fields(self) -> dict[str, Any]:
        """The membership fields the row gives (what it leaves out is filled from the catalog later)."""
        fields: dict[str, Any] = {}
        if self.period is not None:
            fields["duration"], fields["duration_unit"] = self.period
        given = self.model_dump(include={"amount", "currency", "status", "date_created", "date_expiration",
                                         "gateway", "gateway_customer_id", "gateway_subscription_id"},
                                exclude_none=True)
        return fields | given


CSV_COLUMNS = tuple(CsvRow.model_fields)
CSV_REQUIRED = tuple(name for name, f in CsvRow.model_fields.items() if f.is_required())


def row_issues(where: str, exc: ValidationError) -> list[Issue]:
    """Every bad cell of a row, named by its column, in the order of the columns."""
    issues = []
    for err in exc.errors():
        column = str(err["loc"][0])
        missing = err["type"] == "missing"
        message = f"{column} is empty" if missing else str(err["msg"]).removeprefix("Value error, ")
        issues.append(Issue(where, column, message))
    return issues


# --------------------------------------------------------------------------- the file


def read_csv(text: str | Iterable[str], *, name: str = "input") -> Source:
    """The rows of a CSV: `text` is the whole text, or its lines as a stream (`utf8_lines`: a row at a time, so
    the file is never held whole)."""
    src = Source(format="csv", name=name)
    reader = csv.reader(io.StringIO(text, newline="") if isinstance(text, str) else text)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"import {name}: the file is empty (expected a header row: {', '.join(CSV_COLUMNS[:4])},"
                         " ...)") from None
    except csv.Error as exc:
        raise InputError(f"import {name}: line 1: {exc}") from None
    columns = [h.strip().lower() for h in header]
    _refuse_semicolons(name, columns)
    problems = _header_problems(columns)
    if problems:
        raise InputError(f"import {name}: line 1 (header): " + "; ".join(problems))
    rows = _CsvRows(src)
    line = reader.line_num + 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                rows.record(line, columns, record)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"import {name}: line {line}: {exc}") from None
    return src


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def utf8_lines(stream: BinaryIO, name: str) -> Iterator[str]:
    """The lines of a binary stream, decoded one at a time (a UTF-8 BOM dropped; line ends kept, a lone CR ending
    a line as in a text file opened with newline=""); a byte that is not UTF-8 is an InputError naming its line."""
    number = 0
    for raw in stream:
        if number == 0 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"import {name}: not UTF-8 text (line {number + 1})") from None
        for line in _LONE_CR.split(text) if "\r" in text else (text,):
            if line:
                number += 1
                yield line


def _refuse_semicolons(name: str, columns: list[str]) -> None:
    """A header of known columns joined by `;`: a CSV saved by a spreadsheet in a locale whose list separator is
    the semicolon (much of Europe). Said as such, not as one unknown column."""
    cells = [c.strip() for col in columns for c in col.split(";")]
    if any(";" in col for col in columns) and sum(c in CSV_COLUMNS for c in cells) >= 2:
        raise InputError(f"import {name}: line 1 (header): the columns are separated by semicolons (';'), as"
                         " spreadsheets save CSV in many European locales; save the file with commas (e.g."
                         " 'CSV UTF-8 (comma delimited)') and use '.' for the decimals of amounts")


def _header_problems(columns: list[str]) -> list[str]:
    problems = []
    for col in columns:
        if col not in CSV_COLUMNS:
            hint = did_you_mean(col, CSV_COLUMNS)
            problems.append(f"unknown column {col!r}{hint} (columns: {', '.join(CSV_COLUMNS)})")
    for col in {c for c in columns if columns.count(c) > 1}:
        problems.append(f"column {col!r} appears twice")
    for col in CSV_REQUIRED:
        if col not in columns:
            problems.append(f"column {col!r} is required")
    return problems


class _RowKeys:
    """What identifies a row's records, read from its cells as given (a bad row has them too: its customer, site
    and source id still take their place among the rows, and its plan and add-ons are still checked)."""

    def __init__(self, cells: dict[str, str]) -> None:
        self.email = cells.get("email", "")
        lowered = self.email.lower()
        self.customer = self.email if lowered == self.email else lowered  # one string per row when it is lower-case
        self.username = cells.get("username") or None
        self.plan = cells.get("plan", "")
        self.addons = parse_addons(cells.get("addons", ""))[0]
        self.site_path = cells.get("site_path") or None
        self.domain = cells.get("site_domain") or None
        self.path = f"/{_site_segment(self.site_path)}/" if self.site_path is not None else "/"
        self.site: tuple[str | None, str] | None = None
        if self.site_path or self.domain:
            self.site = (self.domain.lower() if self.domain else None, self.path)
        self.source_id = cells.get("source_id") or None
        self.title = cells.get("site_title") or None

    def site_title(self) -> str:
        if self.title:
            return self.title
        return (self.path.strip("/") or (self.domain or "").split(".")[0]).replace("-", " ").title()


class _CsvRows:
    """The rows read so far: what a row is checked against (customers, usernames, sites, source ids)."""

    SHARED_MAX = 10_000

    def __init__(self, src: Source) -> None:
        self.src = src
        self.shared: dict[tuple[type, str], Any] = {}  # values many rows repeat (dates, plans, statuses), held once
        self.customers: dict[str, SrcCustomer] = {}
        self.usernames: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.keys: dict[str, int] = {}
        self.sites: dict[tuple[str | None, str], int] = {}

    def record(self, line: int, columns: list[str], record: list[str]) -> None:
        if len(record) > len(columns):
            self.src.issues.append(Issue(f"line {line}", None, f"{len(record)} cells for {len(columns)} columns"))
            self.src.records += 1
            return
        self.row(line, {col: (record[i].strip() if i < len(record) else "") for i, col in enumerate(columns)})

    def share(self, value: Any) -> Any:
        """The one copy of an immutable value an earlier row gave (equal and spelled the same), else `value`."""
        if isinstance(value, dict):
            return {self.share(k): self.share(v) for k, v in value.items()}
        key = (type(value), repr(value))
        held = self.shared.get(key)
        if held is None and len(self.shared) < self.SHARED_MAX:
            self.shared[key] = held = value
        return value if held is None else held

    def row(self, line: int, cells: dict[str, str]) -> None:
        where = f"line {line}"
        self.src.records += 1
        try:
            row: CsvRow | None = CsvRow.model_validate({k: v for k, v in cells.items() if v})
            problems: list[Issue] = []
        except ValidationError as exc:
            row, problems = None, row_issues(where, exc)
        keys = _RowKeys(cells)
        problems += self._across_rows(where, keys, identity_ok=not any(p.field in ("email", "username")
                                                                      for p in problems))
        self.src.issues.extend(problems)
        self._add(line, where, keys, row if not problems else None)

    def _across_rows(self, where: str, keys: _RowKeys, *, identity_ok: bool) -> list[Issue]:
        """What the row gives that an earlier row gave otherwise: a username, a site, a source id."""
        problems = self._username_problems(where, keys) if keys.email and identity_ok else []
        if keys.site is not None and keys.site in self.sites:
            problems.append(Issue(where, "site_path" if keys.site_path else "site_domain",
                                  f"the site {keys.domain or ''}{keys.path} is also on line {self.sites[keys.site]}"))
        if keys.source_id is not None and f"id:{keys.source_id}" in self.keys:
            problems.append(Issue(where, "source_id", f"source_id {keys.source_id!r} is also on line"
                                                      f" {self.keys[f'id:{keys.source_id}']}"))
        return problems

    def _username_problems(self, where: str, keys: _RowKeys) -> list[Issue]:
        """A username other than the one an earlier row gave the same customer, or given for another customer."""
        username = keys.username
        if not username:
            return []
        problems = []
        known = self.customers.get(keys.customer)
        if known is not None and known.username and known.username != username:
            problems.append(Issue(where, "username", f"username {username!r} differs from {known.username!r}"
                                                     f" given for {keys.email} on {known.where}"))
        owner = self.usernames.get(username)
        if owner is not None and owner != keys.customer:
            problems.append(Issue(where, "username", f"username {username!r} is also given for {owner}"))
        return problems

    def _add(self, line: int, where: str, keys: _RowKeys, row: CsvRow | None) -> None:
        """The row's customer (the first row of an email makes it), membership and site; `row` None: invalid."""
        valid = row is not None
        self._customer(where, keys, valid)
        key = self._membership_key(line, keys)
        if keys.site is not None:
            self.sites[keys.site] = line
        self.src.memberships.append(SrcMembership(
            key=key, customer=keys.customer, plan=self.share(keys.plan), addons=self.share(keys.addons),
            fields=self.share(row.membership_fields()) if row is not None else {}, where=where,
            period_given=row is not None and row.period is not None,
            amount_given=row is not None and row.amount is not None, valid=valid,
        ))
        if keys.site is not None:
            self.src.sites.append(SrcSite(membership=key, path=keys.path, domain=keys.domain,
                                          title=keys.site_title(), type="customer_owned", where=where, valid=valid))

    def _customer(self, where: str, keys: _RowKeys, valid: bool) -> None:
        """The first row of an email makes its customer (invalid with it); a later valid row may give the
        username."""
        customer = self.customers.get(keys.customer)
        if customer is None and keys.email:
            customer = SrcCustomer(email=keys.email, username=keys.username, fields={}, where=where, valid=valid)
            self.customers[keys.customer] = customer
            self.src.customers.append(customer)
        elif customer is not None:
            if keys.username and not customer.username and valid:
                customer.username = keys.username
            if not valid and customer.where == where:
                customer.valid = False
        if keys.username and valid:
            self.usernames.setdefault(keys.username, keys.customer)

    def _membership_key(self, line: int, keys: _RowKeys) -> str:
        """`csv:{source_id}`, else `csv:{email}#{n}` (the customer's n-th row)."""
        if keys.source_id is not None:
            self.keys[f"id:{keys.source_id}"] = line
            return f"csv:{keys.source_id}"
        n = self.counts.get(keys.customer, 0) + 1
        self.counts[keys.customer] = n
        return f"csv:{keys.customer}#{n}"[:KEY_MAX]
