"""A search as the agent understood it, and the hotels it found (pick a row to book it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from agent.core.places import KIND_LABELS, REASON_LABELS
from agent.core.search_result import NearPlace, SearchResult

# The search_hotels argument keys, in the words the user would use.
ARGUMENT_LABELS = {
    "near": "附近",
    "name": "名称",
    "type": "类型",
    "facilities": "设施",
    "price_range_lower": "最低价",
    "price_range_upper": "最高价",
    "rating_range_lower": "最低评分",
    "rating_range_upper": "最高评分",
}
COLUMNS = ("名称", "类型", "价格", "评分", "地铁", "电话")
NEAR_COLUMN = "附近"  # how each hotel is near the searched place (列为周边 / 同一地铁站), for searches with `near`


def describe_arguments(arguments: dict[str, Any]) -> str:
    """`类型 经济型 · 设施 无线网络、叫醒服务 · 价格 ≤ 300` — what the agent will search for."""
    parts = []
    for key, label in ARGUMENT_LABELS.items():
        if key not in arguments or key.endswith(("_lower", "_upper")):
            continue
        value = arguments[key]
        parts.append(f"{label} {'、'.join(value) if isinstance(value, list) else value}")
    for what, lower, upper in (
        ("价格", "price_range_lower", "price_range_upper"),
        ("评分", "rating_range_lower", "rating_range_upper"),
    ):
        low, high = arguments.get(lower), arguments.get(upper)
        if low is not None and high is not None:
            parts.append(f"{what} {_number(low)}–{_number(high)}")
        elif low is not None:
            parts.append(f"{what} ≥ {_number(low)}")
        elif high is not None:
            parts.append(f"{what} ≤ {_number(high)}")
    return " · ".join(parts) if parts else "(no constraints: any hotel)"


def describe_near(near: NearPlace | None, found: bool = True) -> str:
    """What the `near` place turned out to be (`附近 三里屯酒吧街（景点）`), or why nothing was found near it
    (`found` False); "" without a place."""
    if near is None:
        return ""
    if not near.known:
        return f"unknown place: {near.query}"
    if not near.nearby:
        return f"the data lists no hotel near {near.label}"
    if not found:
        return f"no hotel near {near.label} matches"
    return f"附近 {near.label}（{KIND_LABELS.get(near.kind or '', near.kind)}）"


def describe_relaxed(result: SearchResult) -> str:
    """The constraints dropped to find anything, and facility words the database does not know; "" if none."""
    notes = []
    if result.relaxed:
        notes.append("no exact match; relaxed: " + "、".join(ARGUMENT_LABELS.get(k, k) for k in result.relaxed))
    if result.unmapped:
        notes.append("unknown facilities: " + "、".join(result.unmapped))
    return "; ".join(notes)


def record_row(record: dict[str, Any]) -> tuple[str, ...]:
    """A hotel record as a table row; unknown prices (null or -1 in the data) show as —."""
    price = record.get("price")
    price_text = f"¥{_number(price)}" if isinstance(price, (int, float)) and price >= 0 else "—"
    rating = record.get("rating")
    return (
        str(record.get("name", "")),
        str(record.get("type") or "—"),
        price_text,
        _number(rating) if isinstance(rating, (int, float)) else "—",
        str(record.get("subway") or "—"),
        str(record.get("phone") or "—"),
    )


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class ResultsTable(DataTable):
    """The hotels of one search, a row each; the row key is the record's index. With `reasons` (a search near a
    place) a last column says how each hotel is near it."""

    def __init__(self, records: Sequence[dict[str, Any]], reasons: Sequence[str | None] = ()) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, classes="search-results")
        self.records = list(records)
        self.reasons = list(reasons)

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS, *([NEAR_COLUMN] if self.reasons else []))
        for index, record in enumerate(self.records):
            near = [REASON_LABELS.get(self.reasons[index] or "", "—")] if self.reasons else []
            self.add_row(*record_row(record), *near, key=str(index))

    async def _on_click(self, event: events.Click) -> None:
        # One click on a hotel picks it (DataTable's own click only highlights a row not yet highlighted).
        row = event.style.meta.get("row", -1)
        if isinstance(row, int) and 0 <= row < self.row_count:
            event.prevent_default()  # the base handler would move the cursor again
            self.move_cursor(row=row)
            self.action_select_cursor()


class SearchCard(Vertical):
    """Shows `search_hotels` arguments at once, a spinner while the store is queried, then the results."""

    class BookRequested(Message):
        def __init__(self, record: dict[str, Any]) -> None:
            super().__init__()
            self.record = record

    def __init__(
        self, arguments: dict[str, Any], *, pending: bool = True, records: Sequence[dict[str, Any]] | None = None
    ) -> None:
        """`records` fills the table at once (a resumed conversation); otherwise `show_result` does later."""
        super().__init__(classes="search-card")
        self.arguments = arguments
        self.records: list[dict[str, Any]] = []
        self._initial = None if records is None else list(records)
        self.pending = pending and records is None
        self.border_title = "🔍 search_hotels"

    def compose(self) -> ComposeResult:
        yield Static(Text(describe_arguments(self.arguments)), classes="search-arguments")
        yield Static("⠋ searching…" if self.pending else "", classes="search-status")

    def on_mount(self) -> None:
        if self._initial is not None:
            self.show_records(self._initial, reasons=saved_reasons(self.arguments, self._initial))

    def show_result(self, result: SearchResult) -> None:
        self.show_records(
            result.records,
            describe_relaxed(result),
            matched=result.matched,
            reasons=result.near_reasons,
            near=result.near,
        )

    def show_records(
        self,
        records: Sequence[dict[str, Any]],
        note: str = "",
        matched: int | None = None,
        reasons: Sequence[str | None] = (),
        near: NearPlace | None = None,
    ) -> None:
        self.pending = False
        self.records = list(records)
        status = self.query_one(".search-status", Static)
        if not self.records:
            status.update(Text(describe_near(near, found=False) or "no hotel matches", style="bold"))
            return
        where = f"{describe_near(near)} · " if near else ""
        status.update(
            Text("⚠ " + where + note, style="bold yellow")
            if note
            else Text(f"{where}{shown_of(len(self.records), matched)} · f2 or a click on a row books one")
        )
        if note:
            self.add_class("relaxed")
        # Mounted only now, already filled: a table shown after being hidden could keep a stale zero height.
        self.mount(ResultsTable(self.records, reasons))

    def show_rejected(self, error: str) -> None:
        self.pending = False
        self.add_class("rejected")
        self.query_one(".search-status", Static).update(Text(f"✗ arguments rejected: {error}", style="bold red"))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.BookRequested(self.records[int(str(event.row_key.value))]))


def saved_reasons(arguments: dict[str, Any], records: Sequence[dict[str, Any]]) -> list[str | None]:
    """How the records of a saved search with `near` are near its place (saved dialogues keep records only)."""
    near = arguments.get("near")
    if not isinstance(near, str) or not records:
        return []
    from agent.core.errors import UserError
    from agent.core.places import near_reasons

    try:
        return near_reasons(near, records)
    except UserError:  # the place databases are gone since: show the hotels without the column
        return []


def shown_of(shown: int, matched: int | None) -> str:
    """ "3 found", or "top 3 of 453 matches" when the search matched more than it shows."""
    if matched is None or matched <= shown:
        return f"{shown} found"
    return f"top {shown} of {matched:,} matches"
