"""agent.app.tui.services: what the chat app opens at start, and how each part that fails is reported while the
rest still works."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agent.app.history import HISTORY_FILE, ConversationHistory
from agent.app.tui.services import MissingStore, Services, backend_model, open_bookings, open_services
from agent.core.atomic_storage import open_db
from agent.core.bookings import Bookings
from agent.core.errors import DataMissingError, UserError
from agent.core.store import HotelStore
from agent.core.turns import AssistantTurn, Dialogue, UserTurn

from scripted_backend import ScriptedBackend


def fails(error: UserError):
    def open_it(*_args):
        raise error

    return open_it


def test_the_real_services_open_the_store_its_bookings_and_the_history(own_cache):
    opened = open_services(Services())
    assert isinstance(opened.store, HotelStore) and isinstance(opened.bookings, Bookings)
    assert isinstance(opened.history, ConversationHistory)
    assert opened.errors == [] and opened.resume is None


def test_a_store_that_cannot_open_is_reported_and_searches_say_why(own_cache):
    missing = DataMissingError("data file hotel_db.json not found; run `hotel-agent data download`")
    opened = open_services(Services(open_store=fails(missing)))
    assert isinstance(opened.store, MissingStore) and opened.bookings is None
    assert opened.errors == [f"{missing} — searches and bookings will fail until the data is there"]
    with pytest.raises(DataMissingError):
        opened.store.search({})
    assert opened.store.find_by_name("汉庭") == []


def test_bookings_that_cannot_open_leave_searching_and_history_working(own_cache):
    opened = open_services(Services(open_bookings=fails(UserError("bookings table is damaged"))))
    assert isinstance(opened.store, HotelStore) and opened.bookings is None and opened.history is not None
    assert opened.errors == ["bookings unavailable: bookings table is damaged"]


def test_bookings_need_the_hotel_store():
    with pytest.raises(UserError, match="not open"):
        open_bookings(MissingStore(UserError("no data")))


def test_a_history_that_cannot_open_is_reported_and_nothing_is_resumed(own_cache):
    opened = open_services(Services(open_history=fails(UserError("history.json is damaged"))), continue_last=True)
    assert opened.history is None and opened.resume is None
    assert opened.errors == ["conversation history unavailable (nothing will be saved): history.json is damaged"]


def test_continue_reopens_the_last_conversation(own_cache):
    history = ConversationHistory.open()
    new = ConversationHistory.new("rules")
    saved = history.save(replace(new, dialogue=Dialogue([UserTurn("你好"), AssistantTurn("您好")])))
    opened = open_services(Services(), continue_last=True)
    assert opened.resume == saved and opened.notes == []


def test_continue_names_a_damaged_conversation_and_reopens_the_newest_that_reads_well(own_cache):
    history = ConversationHistory.open()
    saved = history.save(replace(ConversationHistory.new("rules"), dialogue=Dialogue([UserTurn("你好")])))
    open_db(own_cache / HISTORY_FILE).table("conversations").insert({"id": "bad", "updated": "9999", "turns": 5})
    opened = open_services(Services(), continue_last=True)
    assert opened.resume == saved
    [note] = opened.notes
    assert note.startswith("warning: conversation 'bad' in") and "is damaged" in note


def test_continue_without_a_saved_conversation_says_so(own_cache):
    opened = open_services(Services(), continue_last=True)
    assert opened.resume is None and opened.notes == ["no saved conversation to continue; starting a new one"]


def test_the_header_names_the_model_from_the_option_else_the_backends_signature():
    backend = ScriptedBackend()
    assert backend_model(backend, {"model": "Qwen/Qwen2-0.5B-Instruct"}) == "Qwen/Qwen2-0.5B-Instruct"
    assert backend_model(backend, {}) is None  # a scripted backend names no model


def test_a_failing_signature_leaves_the_model_unnamed():
    class Broken(ScriptedBackend):
        def signature(self):
            raise RuntimeError("no config")

    assert backend_model(Broken(), {}) is None
