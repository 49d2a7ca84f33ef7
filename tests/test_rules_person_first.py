"""The person-first policy (this branch): every decision starts booking, every yes/no question about the shown
hotels is answered from their records. Each costs course-metric points the main branch does not pay (see
docs/chat.md)."""

from __future__ import annotations

import pytest
from rules_chat import Chat, open_chat


@pytest.fixture
def chat(own_cache) -> Chat:
    chat = open_chat()
    chat.say("我想找一家经济型酒店，要有无线网络")
    assert len(chat.table) == 3
    return chat


@pytest.mark.parametrize("said", ["好的，我愿意入住{name}。", "那就选{name}吧", "我决定入住{name}了"])
def test_deciding_on_a_named_hotel_starts_booking_it(chat, said):
    second = chat.table[1]["name"]
    reply = chat.say(said.format(name=second))
    assert "入住人姓名" in reply and "入住愉快" not in reply
    chat.say("张三，12月1日，两晚")
    assert [b.hotel_name for b in chat.booked()] == [second]
