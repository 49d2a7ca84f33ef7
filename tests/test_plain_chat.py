"""`hotel-agent --backend rules --plain` driven through a subprocess: search → follow-up → choice → closing."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def test_a_scripted_conversation_runs_end_to_end(session_cache):
    script = (
        "\n".join(
            [
                "你好，帮我找一家评分4.5分以上的经济型酒店",
                "这家酒店的电话是多少？",
                "好的，我决定入住这家了。",
                "谢谢，再见",
            ]
        )
        + "\n"
    )
    env = dict(os.environ, HOTEL_AGENT_CACHE=str(session_cache))
    done = subprocess.run(
        [sys.executable, "-c", "from agent.app.cli import main; main()", "--backend", "rules", "--plain"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == '> search {"type": "经济型", "rating_range_lower": 4.5}'
    replies = [line for line in lines if line.startswith("助手: ")]
    assert len(replies) == 4
    phones = re.findall(r"phone=(\S+)", done.stdout)
    assert phones and any(p in replies[1] for p in phones)
    # a choice is not a booking: no reply may say the user is booked (the loop corrects "祝您入住愉快")
    assert "入住愉快" not in replies[2]
    assert sum(1 for line in lines if line.startswith("> search")) == 1


def test_line_mode_skips_blank_lines_and_stops_at_eof():
    import io

    from agent.app.chat_command import chat_lines
    from agent.core.search_result import SearchResult
    from agent.dialogue.loop import DialogueLoop
    from backends.registry import create

    class OneHotelStore:
        def search(self, arguments, limit=None):
            return SearchResult(
                [
                    {
                        "name": "北京甲乙酒店",
                        "type": "经济型",
                        "price": 300.0,
                        "rating": 4.5,
                        "phone": "010-1",
                        "facilities": [],
                    }
                ],
                relaxed=("rating_range_lower",),
            )

    out = io.StringIO()
    dialogue = chat_lines(DialogueLoop(create("rules"), OneHotelStore()), io.StringIO("\n找一家经济型酒店\n\n"), out)
    assert len(dialogue) == 4
    assert out.getvalue().splitlines()[:3] == [
        '> search {"type": "经济型"}',
        "< 1 result (relaxed: rating_range_lower)",
        "  - 北京甲乙酒店 | type=经济型 | price=300 | rating=4.5 | phone=010-1",
    ]


def plain_chat(cache, *args: str, script: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOTEL_AGENT_CACHE=str(cache))
    return subprocess.run(
        [sys.executable, "-c", "from agent.app.cli import main; main()", "--backend", "rules", "--plain", *args],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def saved_conversations(cache) -> list:
    from agent.app.history import ConversationHistory

    return ConversationHistory(cache / "history.json").all()


def test_plain_chat_saves_the_conversation_to_the_history(own_cache):
    done = plain_chat(own_cache, script="帮我找一家经济型酒店\n谢谢，再见\n")
    assert done.returncode == 0, done.stderr
    [conversation] = saved_conversations(own_cache)
    assert conversation.backend == "rules"
    assert [t.role for t in conversation.dialogue].count("user") == 2


def test_plain_continue_appends_to_the_last_conversation(own_cache):
    plain_chat(own_cache, script="帮我找一家经济型酒店\n")
    done = plain_chat(own_cache, "--continue", script="这家酒店的电话是多少？\n")
    assert done.returncode == 0, done.stderr
    [conversation] = saved_conversations(own_cache)
    users = [t.content for t in conversation.dialogue if t.role == "user"]
    assert users == ["帮我找一家经济型酒店", "这家酒店的电话是多少？"]


def test_plain_chat_without_input_saves_nothing(own_cache):
    assert plain_chat(own_cache, script="").returncode == 0
    assert saved_conversations(own_cache) == []


def test_hotels_near_places_in_plain_mode(session_cache):
    script = "故宫附近有什么酒店？\n西直门地铁站附近的经济型酒店\n那三里屯附近呢\n"
    env = dict(os.environ, HOTEL_AGENT_CACHE=str(session_cache))
    done = subprocess.run(
        [sys.executable, "-c", "from agent.app.cli import main; main()", "--backend", "rules", "--plain"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    searches = [line for line in lines if line.startswith("> search")]
    assert searches == [
        '> search {"near": "故宫"}',
        '> search {"near": "西直门地铁站", "type": "经济型"}',
        '> search {"near": "三里屯", "type": "经济型"}',
    ]
    hotels = [line for line in lines if line.startswith("  - ")]
    assert hotels and all(re.search(r" \| near=(listed|station)$", line) for line in hotels)
    replies = [line for line in lines if line.startswith("助手: ")]
    assert replies[0].startswith("助手: 故宫附近的酒店有")
    assert replies[1].startswith("助手: 西直门地铁站附近") and "经济型" in lines[lines.index(searches[1]) + 2]
    assert "三里屯" in replies[2]
