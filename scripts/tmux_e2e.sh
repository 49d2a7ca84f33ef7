#!/usr/bin/env bash
# End-to-end check of the installed chat in a real terminal: start `hotel-agent` (rules backend) inside tmux,
# type a conversation (search, follow-up, pick a hotel with f2, book it, rate a reply), capture the screen after
# each step and check it, resume it with --continue, then check `hotel-agent bookings`, `history` and
# `feedback export` from the shell.
#
#   scripts/tmux_e2e.sh            # uses .venv/bin/hotel-agent, else hotel-agent on PATH
#   KEEP=1 scripts/tmux_e2e.sh     # keep the captures (printed path) for a look
#
# The data comes from $HOTEL_AGENT_DATA (default ../shared/data); the cache is a fresh temporary directory, so
# the user's bookings and history are never touched. Exit status 0 when every check passed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
agent=${HOTEL_AGENT_BIN:-$repo/.venv/bin/hotel-agent}
[ -x "$agent" ] || agent=$(command -v hotel-agent) || { echo "hotel-agent is not installed (pip install -e .)"; exit 2; }
if ! command -v tmux >/dev/null; then
    echo "installing tmux"
    if [ "$(id -u)" = 0 ]; then apt-get install -y -qq tmux >/dev/null; else sudo apt-get install -y -qq tmux >/dev/null; fi
fi

export LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color
export HOTEL_AGENT_DATA=${HOTEL_AGENT_DATA:-$repo/../shared/data}
export HOTEL_AGENT_CACHE=$(mktemp -d)
captures=$HOTEL_AGENT_CACHE/captures
mkdir -p "$captures"
session=hotel-agent-e2e-$$
socket=hotel-agent-e2e-$$  # a private tmux server: never touches the user's sessions

cleanup() {
    tmux -L "$socket" kill-server 2>/dev/null || true
    if [ -n "${KEEP:-}" ]; then echo "captures kept in $captures"; else rm -rf "$HOTEL_AGENT_CACHE"; fi
}
trap cleanup EXIT

t() { tmux -L "$socket" "$@"; }
screen() { t capture-pane -p -t "$session"; }
step=0
# wait_for PATTERN [SECONDS]: poll the screen until PATTERN (grep -E) shows, save the capture, else fail.
wait_for() {
    local pattern=$1 limit=${2:-15} start=$SECONDS
    step=$((step + 1))
    until screen | grep -qE -- "$pattern"; do
        if (( SECONDS - start > limit )); then
            screen > "$captures/$step-FAILED.txt"
            echo "FAIL step $step: no /$pattern/ on screen after ${limit}s; the screen was:"; cat "$captures/$step-FAILED.txt"
            exit 1
        fi
        sleep 0.2
    done
    screen > "$captures/$step.txt"
    echo "ok   step $step: /$pattern/ ($((SECONDS - start))s)"
}
type_line() { t send-keys -t "$session" -l "$1"; t send-keys -t "$session" Enter; }

t new-session -d -s "$session" -x 120 -y 45 "$agent --backend rules"
wait_for "backend: rules" 10                     # the header names the backend
wait_for "ready · enter to send" 60              # the rules backend loaded (first run builds its lexicon)

type_line "帮我找一家有wifi的经济型酒店"
wait_for "类型 经济型 · 设施 wifi"                 # the search card, as the agent understood it
wait_for "名称 +类型 +价格 +评分 +地铁 +电话"          # the results table
wait_for "─ agent ─"                             # the reply

type_line "有没有评分4.5以上的？"
wait_for "评分 ≥ 4.5"                             # the follow-up kept the type and added the rating

t send-keys -t "$session" F2                     # focus the newest results table
sleep 0.3
t send-keys -t "$session" Enter                  # book its first row
wait_for "预订 "
hotel=$(screen | grep -oE "预订 [^ █]+" | head -1 | cut -d' ' -f2)
t send-keys -t "$session" -l "E2E Guest"
t send-keys -t "$session" Enter
wait_for "booked .*E2E Guest"

t send-keys -t "$session" BTab                   # shift+tab: focus the newest agent reply
sleep 0.3
t send-keys -t "$session" -l "+"                 # rate it 👍
wait_for "👍 ═"                                 # the reply shows its rating

type_line "/help"
wait_for "/export FILE"
t send-keys -t "$session" C-q
sleep 1

# Resume: the conversation comes back on screen.
t new-session -d -s "$session" -x 120 -y 45 "$agent --continue"
wait_for "continuing conversation" 30
wait_for "评分 ≥ 4.5"
t send-keys -t "$session" C-q
sleep 1

echo "--- hotel-agent bookings"
"$agent" bookings | tee "$captures/bookings.txt"
grep -q "$hotel" "$captures/bookings.txt" || { echo "FAIL: $hotel is not in the bookings"; exit 1; }
grep -q "E2E Guest" "$captures/bookings.txt" || { echo "FAIL: the guest name was not saved"; exit 1; }
echo "--- hotel-agent history"
"$agent" history | tee "$captures/history.txt"
grep -q "帮我找一家有wifi的经济型酒店" "$captures/history.txt" || { echo "FAIL: the conversation was not saved"; exit 1; }
"$agent" feedback export "$captures/rated.jsonl"
[ "$(wc -l < "$captures/rated.jsonl")" = 1 ] || { echo "FAIL: expected one rated reply in the feedback export"; exit 1; }
echo "PASS: conversation, booking of $hotel, rating, --continue and history checked in a real terminal"
