#!/usr/bin/env bash
# SmolLM2-135M on the whole job (issue 18), on one GPU: `finetune augment`'s dialogues mixed with the course's,
# later-turn searches oversampled, labels cleaned, all seven linear layers at rank 8 stored in bf16 (4.9 MB), three
# epochs; then the adapter on the course test split, its 41 later-turn searches, the conversation suites and the
# near-X set.
#
#   OUT=runs/smollm2-augment bash scripts/gpu_smollm2_augment.sh [BUDGET_SECONDS]
#
# Everything is bounded by BUDGET (default 540 s): training by `finetune run --time-limit` (the adapter is saved
# either way and hotel_agent.json says whether the limit stopped it; `finetune run --out DIR --resume` continues),
# each evaluation by `timeout` (`evalharness run --resume` continues a test-split run). The course data must be in
# $HOTEL_AGENT_DATA (on a lent machine: copy it into an ignored folder of the checkout and carry it), the GGUF in
# the cache (`hotel-agent models fetch smollm2`). QUICK=1: a few steps and samples (a CPU rehearsal).
set -u
T0=$(date +%s); BUDGET=${1:-540}; QUICK=${QUICK:-0}
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-runs/smollm2-augment}; mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
R=$OUT/work; mkdir -p "$R"
left() { echo $(( BUDGET - ($(date +%s) - T0) )); }
log() { echo "[$(( $(date +%s) - T0 ))s] $*" | tee -a "$R/steps.log"; }
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
. scripts/_python.sh
M=${HOTEL_AGENT_CACHE:-$HOME/.cache/hotel-agent}/models/smollm2; G=SmolLM2-135M-Instruct.Q4_1.gguf
[ -f "$M/$G" ] || { echo "no $M/$G: run \`hotel-agent models fetch smollm2\` first"; exit 2; }
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$R/machine.txt" 2>&1
$PY -m finetune.cli augment --out "$R/augment.jsonl" --report > "$R/augment.log" 2>&1 || { log "augment FAILED"; exit 1; }
log "augment: $(tail -1 "$R/augment.log")"
$PY -c "
from agent.core.codecs import read_numbered, sample_from_json_line
from agent.core.datafiles import data_path
from agent.core.turns import SearchTurn, UserTurn
with open('$R/test-later-searches.jsonl', 'w') as f:
    for _, line, s in read_numbered(data_path('hotel/test.jsonl'), sample_from_json_line):
        if isinstance(s.response, SearchTurn) and sum(isinstance(t, UserTurn) for t in s.context) > 1:
            f.write(line)
"
cat > "$R/smollm2-augment.yaml" <<YAML
target_modules: [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]
lora_r: 8
lora_alpha: 32
learning_rate: 0.001
num_epochs: 3
batch_size: 16
max_seq_len: 2048
record_style: compact
mix: [$R/augment.jsonl=1]
oversample: [later search=2]
clean: true
adapter_dtype: bf16
logging_steps: 10
save_steps: 100
YAML
if [ "$QUICK" = 1 ]; then TL="--max-steps 2 --limit-dialogues 8 --dev-limit 4 --batch-size 2"; EL="--limit 4"; NL="--limit 2"; SUITE=evalharness/suites/fallbacks.yaml
else TL=""; EL=""; NL=""; SUITE=evalharness/suites; fi
A=$R/lora-smollm2-augment
log "train start"
$PY -m finetune.cli run --family smollm2 --method lora --model "$M" --gguf-file "$G" --config "$R/smollm2-augment.yaml" \
  --out "$A" --time-limit "$(( ($(left) * 55 / 100) / 60 ))" $TL > "$R/train.log" 2>&1
log "train exit $? $(grep -E '^(training set|train:|time limit|final)' "$R/train.log" | tr '\n' ' ')"
ev() {  # name, command...
  local name=$1; shift
  timeout $(( $(left) - 20 )) "$@" > "$R/$name.log" 2>&1
  log "$name exit $?"
}
ev test $PY -m evalharness run --backend lora-smollm2 --adapter "$A" --batch-size 64 --out "$R/eval-test" --quiet $EL
ev later $PY -m evalharness run --backend lora-smollm2 --adapter "$A" --data "$R/test-later-searches.jsonl" --batch-size 64 --out "$R/eval-later" --quiet $EL
ev converse $PY -m evalharness converse "$SUITE" --backend lora-smollm2 --adapter "$A" --out "$R/eval-converse" --quiet
ev nearx $PY -m evalharness nearx --backend lora-smollm2 --adapter "$A" --out "$R/eval-nearx" --quiet $NL
rm -rf "$A/checkpoints"/*/optimizer.pt
log "all done"
tar -czf "$OUT/adapter.tgz" -C "$R" lora-smollm2-augment --exclude checkpoints
tar -czf "$OUT/runs.tgz" -C "$R" --exclude lora-smollm2-augment .
ls -la "$OUT"
