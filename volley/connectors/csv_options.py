"""The csv format's options, parsed once per table (Flink's ``csv.*`` keys)."""

from __future__ import annotations

from dataclasses import dataclass

from volley.connectors.options import TableOptions, unescape
from volley.connectors.registry import LEGACY_MARKER

CSV_OPTIONS = (
    "csv.field-delimiter",
    "csv.line-delimiter",
    "csv.quote-character",
    "csv.disable-quote-character",
    "csv.allow-comments",
    "csv.ignore-parse-errors",
    "csv.array-element-delimiter",
    "csv.escape-character",
    "csv.null-literal",
    "csv.write-bigdecimal-in-scientific-notation",
    "csv.ignore-first-line",  # Volley extension; 1.11's format.ignore-first-line
)


@dataclass(frozen=True)
class CsvSettings:
    """The CSV format's options, parsed and checked once per table."""

    delimiter: str = ","
    quote_char: str | None = '"'
    escape_char: str | None = None
    null_literal: str | None = None
    ignore_parse_errors: bool = False
    allow_comments: bool = False
    array_delimiter: str = ";"
    ignore_first_line: bool = False
    line_delimiter: str = "\n"
    legacy: bool = False
    ignore_errors_key: str = "csv.ignore-parse-errors"
    """The option name the user would set to skip malformed rows, as they would spell it."""

    @staticmethod
    def from_options(options: TableOptions) -> CsvSettings:
        disabled = options.get_bool("csv.disable-quote-character", False)
        escape = options.get_str("csv.escape-character")
        return CsvSettings(
            delimiter=options.get_char("csv.field-delimiter", ","),
            quote_char=None if disabled else options.get_char("csv.quote-character", '"'),
            escape_char=unescape(escape) if escape else None,
            null_literal=options.get_str("csv.null-literal"),
            ignore_parse_errors=options.get_bool("csv.ignore-parse-errors", False),
            allow_comments=options.get_bool("csv.allow-comments", False),
            array_delimiter=unescape(options.get_str("csv.array-element-delimiter", ";") or ";"),
            ignore_first_line=options.get_bool("csv.ignore-first-line", False),
            line_delimiter=unescape(options.get_str("csv.line-delimiter", "\n") or "\n"),
            legacy=options.get_bool(LEGACY_MARKER, False),
            ignore_errors_key=options.shown_key("csv.ignore-parse-errors"),
        )
