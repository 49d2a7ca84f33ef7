"""Booking, cancelling and their line format in `hotel-agent --plain`: the agent proposes, the next input line
answers, and only a yes writes; `hotel-agent bookings` then shows what the chat did."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.app.plain import chat_lines, is_yes
from agent.core.bookings import CANCELLED, Bookings
from agent.core.dates import find_date
from agent.core.store import HotelStore
from agent.core.turns import AssistantTurn, BookTurn, CancelTurn, Dialogue, ResultTurn
from agent.dialogue.loop import DialogueLoop

from scripted_backend import ScriptedBackend, booking_clerk

TESTS = Path(__file__).resolve().parent
FIND = "帮我找一家有无线网络的经济型酒店"
BOOK = "帮我订第二家，两晚，后天入住，名字张三"


@pytest.fixture
def real(own_cache: Path) -> tuple[HotelStore, Bookings]:
    store = HotelStore.open(learn_facilities=False)
    return store, Bookings(store)


def chat(real, script: str, backend=None) -> tuple[list[str], Dialogue]:
    """Run `script` (one input line per line) through the line chat on the real store; the output lines."""
    out = io.StringIO()
    loop = DialogueLoop(backend or ScriptedBackend(script=booking_clerk), real[0], real[1])
    dialogue = chat_lines(loop, io.StringIO(script), out)
    return out.getvalue().splitlines(), dialogue


def between(lines: list[str], first: str, last: str) -> list[str]:
    """The lines from the one starting with `first` up to the next one starting with `last` (inclusive)."""
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(last))
    return lines[start : end + 1]


# ---- booking ------------------------------------------------------------------------------------------------


def test_a_yes_books_the_proposed_hotel_and_the_lines_say_so(real):
    lines, _ = chat(real, f"{FIND}\n{BOOK}\n是\n")
    second = lines[3].removeprefix("  - ").split(" | ")[0]
    day = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    [booking] = real[1].list()
    assert between(lines, "> book", "助手: ") == [
        f'> book {{"hotel": "{second}", "guest": "张三", "check_in": "{day}", "nights": 2}}',
        f"? 确认预订：{second}，{day} 入住，2 晚，入住人 张三？（是/否）",
        f"< booked #{booking.id}: {second}, {day}, 2 nights, guest 张三",
        f"助手: 已为您预订{second}，{day} 入住，2 晚，入住人 张三，预订号 {booking.id}。",
    ]
    assert (booking.hotel_name, booking.guest, booking.check_in, booking.nights) == (second, "张三", day, 2)


@pytest.mark.parametrize("answer", ["否", "不", "算了", "no", "是不是太贵了"])
def test_anything_but_yes_declines_and_nothing_is_written(real, answer):
    lines, dialogue = chat(real, f"{FIND}\n{BOOK}\n{answer}\n")
    assert "< declined: nothing was booked" in lines
    assert real[1].list() == []
    assert dialogue.bookings() == [] and len([t for t in dialogue if isinstance(t, ResultTurn)]) == 1


def test_the_answer_line_is_not_taken_for_a_new_message(real):
    _, dialogue = chat(real, f"{FIND}\n{BOOK}\n好的\n")
    assert [t.content for t in dialogue if t.role == "user"] == [FIND, BOOK]


def test_input_ending_at_the_question_declines(real):
    lines, _ = chat(real, f"{FIND}\n{BOOK}\n")
    assert lines[-2:] == ["< declined: nothing was booked", lines[-1]] and lines[-1].startswith("助手: ")
    assert real[1].list() == []


def test_a_call_that_fails_a_check_is_not_put_to_the_user(real):
    lines, _ = chat(real, f"{FIND}\n帮我订第二家，两晚，后天入住\n是\n")  # no guest name
    assert not any(line.startswith("? ") for line in lines)
    assert any(line.startswith('> book {"hotel": ') and '"guest": null' in line for line in lines)
    assert "< not booked: book_hotel: missing guest" in lines
    assert real[1].list() == []


@pytest.mark.parametrize("answer", ["是", "是的", "好", "好的", "确认", "对", "可以", "yes", "Y", "好的。", " 是！"])
def test_yes_answers(answer):
    assert is_yes(answer)


@pytest.mark.parametrize("answer", ["", "否", "不要", "no", "是不是", "好贵"])
def test_no_answers(answer):
    assert not is_yes(answer)


# ---- cancelling ---------------------------------------------------------------------------------------------


def test_cancelling_by_chat_asks_then_cancels_the_latest_booking(real):
    lines, dialogue = chat(real, f"{FIND}\n{BOOK}\n是\n取消刚才的预订\n是\n")
    [booking] = real[1].list()
    assert booking.status == CANCELLED
    assert between(lines, "> cancel", "助手: ") == [
        f'> cancel {{"booking_id": {booking.id}}}',
        f"? 确认取消：预订 #{booking.id} {booking.hotel_name}（{booking.check_in} 入住，入住人 张三）？（是/否）",
        f"< cancelled #{booking.id}: {booking.hotel_name}",
        f"助手: 已取消预订 #{booking.id}（{booking.hotel_name}）。",
    ]
    assert dialogue.bookings() == []


def test_a_declined_cancellation_keeps_the_booking(real):
    lines, _ = chat(real, f"{FIND}\n{BOOK}\n是\n取消刚才的预订\n不用了\n")
    assert "< declined: nothing was cancelled" in lines
    assert real[1].list()[0].status != CANCELLED


def test_cancelling_an_unknown_booking_is_one_not_cancelled_line(real):
    backend = ScriptedBackend(turns=[CancelTurn({"booking_id": 42}), AssistantTurn("没有这个预订。")])
    lines, _ = chat(real, "取消42号预订\n", backend)
    assert lines[:2] == ['> cancel {"booking_id": 42}', "< not cancelled: no booking #42"]


# ---- what the app says --------------------------------------------------------------------------------------


def test_a_reply_claiming_a_booking_that_was_not_made_is_flagged_before_the_corrected_reply(real):
    lines, _ = chat(real, "谢谢\n")
    assert lines[0] == "! reply corrected: it claimed a booking that was not made"
    assert lines[1].startswith("助手: 抱歉，我还没有为您预订任何酒店")


def test_a_reply_of_several_lines_is_one_reply_line(real):
    lines, _ = chat(real, "你好\n", ScriptedBackend(turns=[AssistantTurn("您好！\n请问您想找什么样的酒店？")]))
    assert lines == ["助手: 您好！ 请问您想找什么样的酒店？"]


def test_a_too_long_line_is_one_error_line_and_the_chat_goes_on(real):
    lines, dialogue = chat(real, "订" * 5000 + "\n谢谢\n")
    assert lines[0] == "! line 1 is too long (over 2,000 characters); skipped"
    assert [t.content for t in dialogue if t.role == "user"] == ["谢谢"]


def test_a_line_just_over_the_message_limit_is_one_error_line(real):
    lines, dialogue = chat(real, "好" * 2010 + "\n谢谢\n")
    assert lines[0].startswith("! the message is too long (2,010 characters") and len(dialogue) == 2


def test_bytes_that_are_not_utf8_reach_the_dialogue_as_replacement_characters(real):
    damaged = b"\xff\xfe hi\n".decode("utf-8", errors="surrogateescape")
    lines, dialogue = chat(real, damaged + "谢谢\n")
    assert [t.content for t in dialogue if t.role == "user"] == ["\ufffd\ufffd hi", "谢谢"]


def test_a_backend_crash_is_one_error_line_and_the_chat_goes_on(real):
    backend = ScriptedBackend(turns=[AssistantTurn("您好！")])
    lines, dialogue = chat(real, "你好\n再说一遍\n", backend)  # the script runs out of turns: it raises
    assert lines == [
        "助手: 您好！",
        "! the backend failed (ScriptedFailure: the script ran out of turns); the message was not added",
    ]
    assert len(dialogue) == 2


# ---- the whole command, then `hotel-agent bookings` -----------------------------------------------------------


def hotel_agent(cache: Path, *args: str, script: str = "", register: str | None = None) -> subprocess.CompletedProcess:
    """`hotel-agent ARGS` in a subprocess on `cache`; `register` offers the booking clerk under that name."""
    setup = f"import sys; sys.path.insert(0, {str(TESTS)!r}); import scripted_backend; scripted_backend.register_clerk({register!r}); "
    code = (setup if register else "") + "from agent.app.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        input=script,
        capture_output=True,
        text=True,
        env=dict(os.environ, HOTEL_AGENT_CACHE=str(cache)),
        timeout=60,
    )


def test_a_piped_conversation_books_and_cancels_and_the_bookings_command_shows_it(own_cache):
    script = f"{FIND}\n{BOOK}\n是\n取消刚才的预订\n是\n{BOOK.replace('第二家', '第一家')}\n好\n谢谢\n"
    done = hotel_agent(own_cache, "--backend", "clerk", "--plain", script=script, register="clerk")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    hotels = [line.removeprefix("  - ").split(" | ")[0] for line in lines if line.startswith("  - ")]
    assert [line for line in lines if line.startswith("< booked") or line.startswith("< cancelled")] == [
        f"< booked #1: {hotels[1]}, {(dt.date.today() + dt.timedelta(days=2)).isoformat()}, 2 nights, guest 张三",
        f"< cancelled #1: {hotels[1]}",
        f"< booked #2: {hotels[0]}, {(dt.date.today() + dt.timedelta(days=2)).isoformat()}, 2 nights, guest 张三",
    ]
    assert not any(line.startswith("! ") for line in lines)  # after a booking, the closing claims nothing false

    listed = hotel_agent(own_cache, "bookings")
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()
    assert rows[1].split()[:3] == ["1", "cancelled", hotels[1]] and rows[2].split()[:3] == ["2", "confirmed", hotels[0]]
    assert rows[-1] == "2 bookings, 1 active"


def test_booking_by_chat_on_the_rules_backend(own_cache):
    script = "我想找一家经济型酒店，要有无线网络\n帮我订第二家，两晚，12月1日入住，名字张三\n是\n"
    done = hotel_agent(own_cache, "--backend", "rules", "--plain", script=script)
    assert done.returncode == 0, done.stderr
    hotels = [line.removeprefix("  - ").split(" | ")[0] for line in done.stdout.splitlines() if line.startswith("  - ")]
    [booking] = Bookings(HotelStore.open()).list()
    day = find_date("12月1日", dt.date.today())
    assert day is not None
    assert (booking.hotel_name, booking.guest, booking.check_in, booking.nights) == (
        hotels[1],
        "张三",
        day[0].isoformat(),
        2,
    )


def test_cancelling_by_chat_on_the_rules_backend(own_cache):
    script = "我想找一家经济型酒店，要有无线网络\n帮我订第二家，两晚，12月1日入住，名字张三\n是\n取消刚才的预订\n是\n"
    done = hotel_agent(own_cache, "--backend", "rules", "--plain", script=script)
    assert done.returncode == 0, done.stderr
    assert [b.status for b in Bookings(HotelStore.open()).list()] == [CANCELLED]


def test_the_booking_turns_are_saved_in_the_history(own_cache):
    done = hotel_agent(own_cache, "--backend", "clerk", "--plain", script=f"{FIND}\n{BOOK}\n是\n", register="clerk")
    assert done.returncode == 0, done.stderr
    from agent.app.history import ConversationHistory

    [conversation] = ConversationHistory(own_cache / "history.json").all()
    roles = [t.role for t in conversation.dialogue]
    assert roles == ["user", "search", "return", "assistant", "user", "book", "result", "assistant"]
    assert isinstance(conversation.dialogue[5], BookTurn) and conversation.dialogue.bookings()[0]["guest"] == "张三"
