"""Regenerate docs/screenshot.svg: a short conversation on the rules backend, captured with Textual's
`save_screenshot`. Runs headless in a temporary cache dir (nothing is booked or saved for the user).

    python -m agent.app.tui.screenshot docs/screenshot.svg"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

CONVERSATION = ("帮我找一家有wifi的经济型酒店", "有没有评分4.5以上的？", "第一家的电话是多少？")
SIZE = (120, 42)


async def _wait(pilot, condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        await pilot.pause(0.05)


async def capture(out: Path) -> None:
    from agent.app.tui.app import HotelAgentApp

    app = HotelAgentApp("rules")
    async with app.run_test(size=SIZE) as pilot:
        await _wait(pilot, lambda: app.ready.is_set() and app.loading is None)
        for text in CONVERSATION:
            before = len(app.dialogue)
            app.prompt.load_text(text)
            await pilot.press("enter")
            await _wait(pilot, lambda before=before: not app.busy and len(app.dialogue) > before)
        await pilot.press("f2")
        await pilot.pause(0.3)
        app.save_screenshot(out.name, str(out.parent))


def main(argv: list[str]) -> None:
    out = Path(argv[0] if argv else "docs/screenshot.svg").resolve()
    with tempfile.TemporaryDirectory() as cache:
        os.environ["HOTEL_AGENT_CACHE"] = cache
        asyncio.run(capture(out))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
