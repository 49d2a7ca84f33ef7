"""Does a reply tell the user that a booking or a cancellation happened?

The loop checks every reply against what the dialogue's results say, so no backend — a rules template learned
from data whose closings read "祝您入住愉快", or a model that imitates them — can tell a user a hotel is booked when
nothing was written. The conversation evaluation counts such claims with the same rules."""

from __future__ import annotations

import re

from agent.core.turns import Dialogue, ResultTurn

# "已为您预订", "预订成功", "订好了", "祝您入住愉快" (a farewell that presumes a booking), "预订号"
_BOOKING = re.compile(
    r"(?:已经?|成功)(?:为您|帮您|给您|替您)?(?:成功)?(?:预订|预定|订好|订了|下单)|预[订定](?:已经?)?(?:成功|完成|好了)"
    r"|订好了|入住愉快|预订号|预订编号"
)
_CANCEL = re.compile(r"(?:已经?|成功)(?:为您|帮您|给您|替您)?(?:成功)?取消|取消(?:成功|好了|完成)")
# a claim the reply itself denies: 还没有为您预订 / 未能预订成功 / 没有取消
_NEGATION = re.compile(r"[没未不无]|尚未|还没|没有|无法|未能")


def claims_booking(text: str) -> bool:
    return _claims(_BOOKING, text)


def claims_cancellation(text: str) -> bool:
    return _claims(_CANCEL, text)


def _claims(pattern: re.Pattern[str], text: str) -> bool:
    for match in pattern.finditer(text):
        before = text[max(0, match.start() - 4) : match.start()]
        if not _NEGATION.search(before):
            return True
    return False


def false_claim(reply: str, dialogue: Dialogue, since: int) -> str | None:
    """Why `reply` claims something that did not happen ('booking' / 'cancellation'), or None.

    A booking claim is true when this exchange (the turns from index `since`) booked, or the dialogue holds a
    booking still active (the user asks about it); a cancellation claim when this exchange cancelled one."""
    results = [t.result for t in dialogue.turns[since:] if isinstance(t, ResultTurn) and t.ok]
    if claims_cancellation(reply) and not any(r.get("status") == "cancelled" for r in results):
        return "cancellation"
    booked_now = any(r.get("status") != "cancelled" for r in results)
    if claims_booking(reply) and not booked_now and not dialogue.bookings():
        return "booking"
    return None
