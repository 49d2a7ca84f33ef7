"""`hotel-agent search '<json arguments>'`: run a search_hotels call on the store and print a table."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import Any

import click

from agent.core.errors import ArgumentError, UserError
from agent.core.places import KIND_LABELS, REASON_TEXT
from agent.core.search_result import SearchResult
from agent.core.store import has_price

COLUMNS = ("name", "type", "price", "rating", "subway", "phone")
HEADERS = {"name": "酒店", "type": "类型", "price": "价格", "rating": "评分", "subway": "地铁", "phone": "电话"}
NEAR_HEADER = "附近"  # the last column of a search near a place: how each hotel is near it


def display_width(text: str) -> int:
    """Terminal columns `text` takes: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def _cell(record: dict[str, Any], column: str) -> str:
    value = record.get(column)
    if column == "price":
        return f"{value:g}" if has_price(record) else "—"
    if column == "rating":
        return f"{value:.1f}" if isinstance(value, (int, float)) else "—"
    return str(value) if value not in (None, "") else "—"


def render_table(records: Sequence[dict[str, Any]], reasons: Sequence[str] = ()) -> list[str]:
    rows = [[HEADERS[c] for c in COLUMNS]] + [[_cell(r, c) for c in COLUMNS] for r in records]
    if reasons:
        rows[0].append(NEAR_HEADER)
        for row, reason in zip(rows[1:], reasons):
            row.append(REASON_TEXT.get(reason, reason))
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(_pad(cell, w) for cell, w in zip(row, widths)).rstrip() for row in rows]


def render_result(result: SearchResult, total: int) -> list[str]:
    """The table plus what the user should know: how many there are, what was relaxed or not understood."""
    lines = []
    near = result.near
    if near is not None and near.known:
        also = f"; also could be: {'、'.join(near.alternatives)}" if near.alternatives else ""
        lines.append(
            f"near {near.label} ({KIND_LABELS.get(near.kind or '', near.kind)}): "
            f"{near.nearby} hotel{'s' if near.nearby != 1 else ''} near it in the data{also}"
        )
    if result.relaxed:
        lines.append(f"no hotel meets every constraint; dropped: {', '.join(result.relaxed)} (closest hotels first)")
    if result.unmapped:
        lines.append(f"facilities not understood, ignored: {'、'.join(result.unmapped)}")
    if not result.records:
        lines.append("no hotel found")
        return lines
    lines.extend(render_table(result.records, result.near_reasons))
    shown = len(result.records)
    lines.append(f"{shown} of {total} hotels" if shown < total else f"{total} hotel{'s' if total != 1 else ''}")
    return lines


def parse_arguments(text: str) -> dict[str, Any]:
    try:
        arguments = json.loads(text)
    except json.JSONDecodeError as e:
        raise ArgumentError(f"arguments are not valid JSON: {e.msg} at column {e.colno}") from None
    if not isinstance(arguments, dict):
        raise ArgumentError(f'arguments must be a JSON object like \'{{"type": "经济型"}}\', got {text.strip()!r}')
    return arguments


@click.command()
@click.argument("arguments")
@click.option(
    "--limit", type=click.IntRange(min=1), default=10, show_default=True, help="Show at most this many hotels."
)
def search(arguments: str, limit: int) -> None:
    """Search the hotels with search_hotels ARGUMENTS (a JSON object), as the chat's model would.

    Keys: name, type (豪华型/经济型/舒适型/高档型), facilities (a list of your own words, e.g. 无线网络),
    price_range_lower, price_range_upper, rating_range_lower, rating_range_upper, near (a place: an
    attraction, restaurant, hotel or subway station, e.g. 故宫, 西直门地铁站). Examples:

        hotel-agent search '{"type":"经济型","facilities":["无线网络"]}' --limit 5

        hotel-agent search '{"near":"故宫"}'

    When no hotel meets every constraint the closest ones are shown and the dropped constraints named;
    facility words that match no facility are named too."""
    from agent.core.store import HotelStore  # after parsing: a typo in the JSON costs no store opening

    parsed = parse_arguments(arguments)
    store = HotelStore.open()
    result = store.search(parsed)
    if result.near is not None and not result.near.known:
        raise UserError(
            f"unknown place {result.near.query!r}: no attraction, restaurant, hotel or subway station of that name"
        )
    for line in render_result(result.head(limit), len(result.records)):
        click.echo(line)
