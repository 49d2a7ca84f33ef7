#!/usr/bin/env bash
# End-to-end check of the installed chat in a real terminal: start `hotel-agent` (rules backend) inside tmux,
# type a conversation (search, follow-up, pick a hotel with f2, book it, rate a reply), capture the screen after
# each step and check it, resume it with --continue; then book by chat (the agent proposes, the form opens
# prefilled, enter books) and cancel by chat; then check `hotel-agent bookings`, `history` and `feedback export`
# from the shell.
#
#   scripts/tmux_e2e.sh            # uses .venv/bin/hotel-agent, else hotel-agent on PATH
#   KEEP=1 scripts/tmux_e2e.sh     # keep the captures (printed path) for a look
#   CHAT_BACKEND=NAME scripts/tmux_e2e.sh   # the backend of the booking-by-chat part (default: rules)
#
# The data comes from $HOTEL_AGENT_DATA (default ../shared/data); the cache is a fresh temporary directory, so
# the user's bookings and history are never touched. Exit status 0 when every check passed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
agent=${HOTEL_AGENT_BIN:-$repo/.venv/bin/hotel-agent}
chat_backend=${CHAT_BACKEND:-rules}
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
# A pause before enter, as a person makes: typed after a rating, the first key moves the focus to the input,
# and an enter sent in the same burst would reach the reply it left.
# quit_app: ctrl+q, then wait (at most 15 s) until the app has exited and its tmux session is gone.
quit_app() {
    local start=$SECONDS
    t send-keys -t "$session" C-q
    while t has-session -t "$session" 2>/dev/null; do
        if (( SECONDS - start > 15 )); then echo "FAIL: the app did not quit within 15s"; exit 1; fi
        sleep 0.2
    done
}
type_line() { t send-keys -t "$session" -l "$1"; sleep 0.3; t send-keys -t "$session" Enter; }

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
# The form: guest, check-in, nights, typed as a person would (keys sent in one burst reach the app as one
# chunk, in which a tab is lost)
slowly() { t send-keys -t "$session" "$@"; sleep 0.3; }
slowly -l "E2E Guest"
slowly Tab
slowly -l "后天"
slowly Tab
slowly -l "2"
slowly Enter
wait_for "✔ booked #1: .*guest E2E Guest"

t send-keys -t "$session" BTab                   # shift+tab: focus the newest agent reply
sleep 0.3
t send-keys -t "$session" -l "+"                 # rate it 👍
wait_for "👍 ═"                                 # the reply shows its rating

type_line "/help"
wait_for "/export FILE"
quit_app

# Resume: the conversation comes back on screen.
t new-session -d -s "$session" -x 120 -y 45 "$agent --continue"
wait_for "continuing conversation" 30
wait_for "评分 ≥ 4.5"
quit_app

# Booking by chat, in a new conversation: the agent proposes, the form opens prefilled, enter books it; then
# cancelling by chat asks in a dialog (the safe answer has the focus: shift+tab reaches "Cancel the booking").
t new-session -d -s "$session" -x 120 -y 45 "$agent --backend $chat_backend"
wait_for "ready · enter to send" 60
type_line "我想找一家经济型酒店，要有无线网络"
wait_for "名称 +类型 +价格 +评分 +地铁 +电话"
wait_for "─ agent ─"
type_line "帮我订第二家，两晚，12月1日入住，名字张三"
wait_for "The agent asks to book this"                 # the form, prefilled with what the user said
wait_for "张三"
chat_hotel=$(screen | grep -oE "预订 [^ █]+" | head -1 | cut -d' ' -f2)
t send-keys -t "$session" Enter                  # the Book button has the focus
wait_for "✔ booked #2: .*2 nights, guest 张三"          # the note and the status bar name the booking number
type_line "取消刚才的预订"
wait_for "取消预订？"
t send-keys -t "$session" BTab
sleep 0.3
t send-keys -t "$session" Enter
wait_for "✔ cancelled #2"
quit_app

echo "--- hotel-agent bookings"
"$agent" bookings | tee "$captures/bookings.txt"
grep -q "$hotel" "$captures/bookings.txt" || { echo "FAIL: $hotel is not in the bookings"; exit 1; }
grep -q "E2E Guest" "$captures/bookings.txt" || { echo "FAIL: the guest name was not saved"; exit 1; }
grep -E "^2 +cancelled " "$captures/bookings.txt" | grep -F "$chat_hotel" | grep -q "张三" \
    || { echo "FAIL: the booking by chat ($chat_hotel, 张三) is not listed as cancelled"; exit 1; }
grep -q "2 bookings, 1 active" "$captures/bookings.txt" || { echo "FAIL: expected 2 bookings, 1 active"; exit 1; }
echo "--- hotel-agent history"
"$agent" history | tee "$captures/history.txt"
grep -q "帮我找一家有wifi的经济型酒店" "$captures/history.txt" || { echo "FAIL: the conversation was not saved"; exit 1; }
"$agent" feedback export "$captures/rated.jsonl"
[ "$(wc -l < "$captures/rated.jsonl")" = 1 ] || { echo "FAIL: expected one rated reply in the feedback export"; exit 1; }
echo "PASS: conversation, booking of $hotel from the table, rating, --continue, booking of $chat_hotel by chat"\
    "and its cancellation ($chat_backend backend), bookings and history checked in a real terminal"
