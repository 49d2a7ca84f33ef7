#!/usr/bin/env bash
# SmolLM2-135M-Instruct end to end on one GPU (issue 8): LoRA and QLoRA on the full train split with equal
# steps, then prompt-only / LoRA / QLoRA through evalharness on the full test split.
#
#   SMOLLM2_GGUF=/path/SmolLM2-135M-Instruct.Q4_1.gguf OUT=runs/smollm2 bash scripts/gpu_smollm2.sh
#
# The GGUF comes from `hotel-agent models fetch smollm2` (default path below); QLoRA quantizes a de-quantized
# bf16 copy of it that finetune and the qlora backend share (made once in the cache dir). QUICK=1 runs a few steps and samples
# only (a CPU rehearsal of the script). Every result lands in $OUT: adapters, run dirs, logs.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 2
START=$(date +%s)
OUT=${OUT:-runs/smollm2}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
GGUF=${SMOLLM2_GGUF:-${HOTEL_AGENT_CACHE:-$HOME/.cache/hotel-agent}/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}
MODEL_DIR=$(dirname "$GGUF"); GGUF_NAME=$(basename "$GGUF")
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
step() { echo; echo "=== $* ($(( $(date +%s) - START )) s) ==="; }

if [ "${QUICK:-0}" = 1 ]; then
  TRAIN_LIMIT="--max-steps 2 --limit-dialogues 8 --dev-limit 4"; EVAL_LIMIT="--limit 6"; BATCH=4
else
  TRAIN_LIMIT=""; EVAL_LIMIT=""; BATCH=${EVAL_BATCH:-64}
fi
# The reference's LoRA (r 8, alpha 32, dropout 0.1, query/value projections); a higher learning rate and a
# third epoch because a 135M model with rank 8 learns slowly at 2e-4; compact record JSON cuts ~40% of tokens.
cat > "$OUT/smollm2.yaml" <<'YAML'
lora_r: 8
lora_alpha: 32
lora_dropout: 0.1
target_modules: [q_proj, v_proj]
learning_rate: 0.001
num_epochs: 3
batch_size: 16
record_style: compact
logging_steps: 10
save_steps: 500
YAML

train() {  # method, model args...
  local method=$1; shift
  step "finetune $method"
  "$PY" -m finetune.cli run --family smollm2 --method "$method" "$@" --config "$OUT/smollm2.yaml" \
    --out "$OUT/$method-smollm2" $TRAIN_LIMIT > "$OUT/train-$method.log" 2> "$OUT/train-$method.err"
  local rc=$?
  grep -E "final|tokens/s|train_runtime|Maximum resident" "$OUT/train-$method.log" "$OUT/train-$method.err" | tail -8
  [ $rc = 0 ] || { echo "FAILED ($rc)"; tail -20 "$OUT/train-$method.err"; }
  "$PY" - "$OUT/$method-smollm2" <<'PYEOF'
import json, sys
from pathlib import Path
info = Path(sys.argv[1]) / "hotel_agent.json"
if info.is_file():
    meta = json.loads(info.read_text())["extra"]
    keep = {k: meta[k] for k in ("final_train_loss", "final_dev_loss", "steps", "train_tokens_per_epoch",
                                 "train_seconds", "tokens_per_second", "peak_gpu_memory_gib") if k in meta}
    print("  ", json.dumps(keep, ensure_ascii=False)[:600])
PYEOF
}
train lora --model "$MODEL_DIR" --gguf-file "$GGUF_NAME"
train qlora --model "$MODEL_DIR" --gguf-file "$GGUF_NAME"

evaluate() {  # name, backend args...
  local name=$1; shift
  step "evalharness $name"
  "$PY" -m evalharness run "$@" --batch-size "$BATCH" --out "$OUT/eval-$name" --quiet $EVAL_LIMIT \
    > "$OUT/eval-$name.log" 2>&1 || { echo "FAILED"; tail -20 "$OUT/eval-$name.log"; }
  "$PY" -c "import json,sys; m=json.load(open(sys.argv[1]))['metrics']; print('  ', {k: v for k, v in m.items() if not isinstance(v, dict)})" "$OUT/eval-$name/summary.json" 2>/dev/null
}
evaluate lora-smollm2 --backend lora-smollm2 --model "$MODEL_DIR" --gguf-file "$GGUF_NAME" --adapter "$OUT/lora-smollm2"
evaluate qlora-smollm2 --backend qlora-smollm2 --model "$MODEL_DIR" --gguf-file "$GGUF_NAME" --adapter "$OUT/qlora-smollm2"
evaluate prompt-smollm2 --backend prompt-smollm2 --model "$MODEL_DIR" --gguf-file "$GGUF_NAME"

rm -rf "$OUT"/*/checkpoints
step "done"
