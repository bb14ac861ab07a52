"""Cells for files that open in Excel: text that would run as a formula is kept as text.

Excel (and LibreOffice, WPS) read a CSV cell that starts with ``=``, ``+``, ``-`` or ``@``
— also after a leading tab or carriage return — as a formula, so a resident's message
``=HYPERLINK(...)`` would become a live link in the staff's spreadsheet. A leading
apostrophe makes the spreadsheet show the cell as text; :func:`cell_from_spreadsheet`
takes it off again when such a file is imported.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> str:
    """``value`` as CSV cell text that a spreadsheet shows as text, never runs."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def spreadsheet_row(values: list[object]) -> list[str]:
    """:func:`spreadsheet_cell` of every value of a row."""
    return [spreadsheet_cell(value) for value in values]


def cell_from_spreadsheet(text: str) -> str:
    """The original text of a cell :func:`spreadsheet_cell` wrote (other text as it is)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
