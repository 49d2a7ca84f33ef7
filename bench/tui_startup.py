"""How fast the chat starts: time from process start to the first screen, and to the rules backend being ready.

Three measurements, each in fresh processes, median and max over --runs:

* `python -c pass` — the interpreter's own start, the floor;
* headless: a process that builds `HotelAgentApp` with the rules backend and runs it headless; it reports the
  wall-clock time of the app's first `Ready` (first screen composed and painted) and of the backend being
  loaded; the parent subtracts its own time just before starting the process. It also reports whether torch
  or transformers got imported;
* terminal (when tmux is installed): `hotel-agent` in a real tmux terminal, polled every 20 ms until the input's
  placeholder is on screen (so the figure includes a poll interval of slack).

The cache dir is the user's (or $HOTEL_AGENT_CACHE): run once before measuring so the rules lexicon and the
store are built (`--warm` does that run first). Usage:

    HOTEL_AGENT_DATA=../shared/data python bench/tui_startup.py --runs 10 --warm
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import sys, time, json
from agent.app.tui.app import HotelAgentApp

marks = {}

class Timed(HotelAgentApp):
    def on_ready(self) -> None:
        marks.setdefault("first_screen", time.time())

async def pilot(p):
    app = p.app
    while not (app.ready.is_set() and app.loading is None):
        await p.pause(0.005)
    marks["backend_ready"] = time.time()
    marks["backend_ok"] = app.backend is not None
    marks["heavy_imports"] = sorted(m for m in ("torch", "transformers") if m in sys.modules)
    app.exit()

Timed("rules").run(headless=True, size=(120, 40), auto_pilot=pilot)
print(json.dumps(marks))
"""


def time_pass() -> float:
    start = time.time()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.time() - start


def time_headless() -> dict:
    start = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD], check=True, capture_output=True, text=True, cwd=REPO).stdout
    marks = json.loads(out.strip().splitlines()[-1])
    return {
        "first_screen": marks["first_screen"] - start,
        "backend_ready": marks["backend_ready"] - start,
        "backend_ok": marks["backend_ok"],
        "heavy_imports": marks["heavy_imports"],
    }


def time_terminal(agent: str) -> float | None:
    socket = f"tui-bench-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm-256color"}
    try:
        start = time.time()
        subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-x", "120", "-y", "40", agent], check=True, env=env)
        while time.time() - start < 30:
            screen = subprocess.run(["tmux", "-L", socket, "capture-pane", "-p"], capture_output=True, text=True).stdout
            if "问我北京的酒店" in screen:
                return time.time() - start
            time.sleep(0.02)
        return None
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)


def summary(name: str, values: list[float]) -> str:
    return f"{name:34} median {statistics.median(values):.3f} s   max {max(values):.3f} s   (n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warm", action="store_true", help="one unmeasured run first (builds the caches)")
    args = parser.parse_args()
    if args.warm:
        time_headless()
    passes, screens, readies, heavy = [], [], [], set()
    for _ in range(args.runs):
        passes.append(time_pass())
        result = time_headless()
        if not result["backend_ok"]:
            sys.exit("the rules backend did not load (is HOTEL_AGENT_DATA set?)")
        screens.append(result["first_screen"])
        readies.append(result["backend_ready"])
        heavy.update(result["heavy_imports"])
    print(summary("python -c pass", passes))
    print(summary("headless: first screen", screens))
    print(summary("headless: rules backend ready", readies))
    agent = shutil.which("hotel-agent") or str(REPO / ".venv" / "bin" / "hotel-agent")
    if shutil.which("tmux") and Path(agent).exists():
        terminal = [t for t in (time_terminal(agent) for _ in range(args.runs)) if t is not None]
        if terminal:
            print(summary("tmux: prompt on screen (20 ms poll)", terminal))
    print(f"torch/transformers imported: {sorted(heavy) or 'no'}")
    print(f"cpu count {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
