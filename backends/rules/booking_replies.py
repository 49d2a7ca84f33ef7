"""What the agent says while booking: one short question for the details still missing, and the answer to what a
book_hotel / cancel_booking call did, written from its result alone (a reply claims only what the result says)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

_ASK = {"hotel": "要订哪家酒店", "guest": "入住人姓名", "check_in": "入住日期", "nights": "住几晚"}
_ORDINALS = "一二三四五六七八九十"


def _listed(missing: list[str]) -> str:
    wanted = [_ASK[f] for f in missing]
    return wanted[0] if len(wanted) == 1 else "、".join(wanted[:-1]) + "和" + wanted[-1]


def ask_for(
    missing: list[str], hotel: dict[str, Any] | None = None, user_text: str = "", past: str | None = None
) -> str:
    """好的，请问入住人姓名、入住日期和住几晚？ — only the missing ones. The hotel is named when the user did not
    write its name (第二家, 这家), so the user sees which row was understood. `past`: the check-in the user gave
    names a day gone by (上周五), said first."""
    about = f"{hotel['name']}，" if hotel and str(hotel.get("name")) not in user_text else ""
    opening = f"抱歉，{past}已经过去了，不能入住。" if past and "check_in" in missing else "好的，"
    return f"{opening}{about}请问{_listed(missing)}？"


def found(records: list[dict[str, Any]], missing: list[str]) -> str:
    """After searching for the hotel a booking request named: the one found and the details still missing, or
    the several found to choose from (the details are asked once the hotel is chosen)."""
    names = "、".join(str(r["name"]) for r in records)
    if len(records) == 1:
        return f"为您找到{names}，请问{_listed([f for f in missing if f != 'hotel'])}？"
    return f"为您找到{names}，请问您要预订哪家？"


def choose_among(records: list[dict[str, Any]], out_of_range: int | None) -> str:
    """Which of the hotels shown to book (这家 among several, or 第五家 of a table of three)."""
    rows = [f"第{_ORDINALS[i]}家{r['name']}" for i, r in enumerate(records[:10])]
    listed = rows[0] if len(rows) == 1 else "、".join(rows[:-1]) + "还是" + rows[-1]
    opening = f"只有{len(records)}家酒店，" if out_of_range is not None else "好的，"
    return f"{opening}请问您要预订哪一家：{listed}？"


def bookings_made(bookings: list[dict[str, Any]], cancelled: Sequence[dict[str, Any]] = ()) -> str:
    """The bookings still active in this conversation, from their results, and those cancelled in it."""
    # (said as done earlier, 之前取消了: the reply makes no claim of a cancellation in this exchange)
    gone = "；".join(f"{c['booking_id']}号预订（{c['hotel']}）之前取消了" for c in cancelled)
    if not bookings:
        return f"您目前没有有效的预订：{gone}。" if gone else "这次对话里您还没有预订。"
    lines = [
        f"{b['booking_id']}号预订：{b['hotel']}，{_date(b.get('check_in'))}入住，住{b.get('nights')}晚，入住人{b.get('guest')}"
        for b in bookings
    ]
    return "这次对话里您的预订有：" + "；".join(lines) + "。" + (f"另外，{gone}。" if gone else "")


def not_found(name: str) -> str:
    return f"抱歉，没有找到“{name}”这家酒店，您可以换个名字，或者告诉我想找什么样的酒店。"


def request_dropped() -> str:
    return "好的，没有预订。还有什么可以帮您？"


def nothing_to_cancel() -> str:
    return "您目前没有可以取消的预订。"


def no_such_booking(made: list[dict[str, Any]]) -> str:
    """第三个订单 when two were made: say how many there are and which, so the user can name one."""
    listed = "、".join(f"{b['booking_id']}号（{b['hotel']}）" for b in made)
    return f"这次对话里只订了{len(made)}个：{listed}。请告诉我要取消的是几号预订。"


def _date(value: Any) -> str:
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日"


_FIELD_AGAIN = {
    "check_in": "请换一个入住日期，例如12月1日或下周五。",
    "nights": "请告诉我住几晚（1到365晚）。",
    "guest": "请告诉我入住人姓名。",
    "hotel": "请告诉我要订哪一家酒店（可以说第几家，或酒店的名字）。",
    "booking_id": "请告诉我要取消的是几号预订。",  # (预订号 alone reads as a booking made)
}


def _why(error: str, field: str | None) -> str:
    """The result's error in a few Chinese words (the error itself is written for logs, in English)."""
    if field == "check_in":
        if "past" in error:
            return "入住日期已经过去了"
        if "year ahead" in error:
            return "只能预订一年以内的日期"
        return "没能看懂入住日期"
    if field == "nights":
        return "住几晚需要在1到365晚之间"
    if field == "hotel":
        return "这家酒店对应了多家酒店" if "fits" in error else "没有找到这家酒店"
    if field == "booking_id":
        return "这个预订之前就取消了" if "already" in error else "没有找到这个预订"
    return "没有办成"


def result_reply(result: dict[str, Any], cancelling: bool) -> str:
    """The reply to a book_hotel (`cancelling` False) or cancel_booking call's result."""
    if result.get("declined"):
        return "好的，预订没有取消。" if cancelling else "好的，没有预订。还有什么可以帮您？"
    if "error" in result:
        field = result.get("field")
        if field in _FIELD_AGAIN:
            return f"抱歉，{_why(str(result['error']), field)}，{_FIELD_AGAIN[field]}"
        what = "取消" if cancelling else "预订"
        return f"抱歉，{what}没有完成：{result['error']}。"
    if result.get("status") == "cancelled":
        return f"好的，预订{result['booking_id']}号（{result['hotel']}）已经取消。"
    return (
        f"好的，已为您预订{result['hotel']}，{_date(result.get('check_in'))}入住，住{result.get('nights')}晚，"
        f"入住人{result.get('guest')}，预订号{result['booking_id']}。祝您入住愉快！"
    )
