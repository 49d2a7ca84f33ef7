#!/usr/bin/env bash
# SmolLM2-135M-Instruct end to end on one GPU (issue 8): LoRA and QLoRA from one config (3 epochs, equal
# steps, finetune/configs/smollm2-135m-lora.yaml), trained side by side, then each adapter and prompt-only through
# evalharness on the full test split.
#
#   OUT=runs/smollm2 bash scripts/gpu_smollm2.sh [BUDGET_SECONDS]
#
# A 135M model leaves an H100 mostly idle (launch-bound), so the three pipelines run at once:
#   train lora  -> eval lora-smollm2
#   train qlora -> eval qlora-smollm2
#   eval prompt-smollm2
# Everything is bounded by BUDGET (default 540 s): training by `finetune run --time-limit` (a stopped run still
# saves its adapter and says so in hotel_agent.json), evaluation by `timeout` (an evalharness run dir continues
# with `--resume`). At the end the adapters go to $OUT/adapters.tgz and everything else to $OUT/runs.tgz.
# The GGUF is read from the cache (`hotel-agent models fetch smollm2`); QLoRA quantizes its de-quantized bf16
# copy, made once up front so the pipelines do not race to make it. QUICK=1: a few steps and samples (a CPU
# rehearsal of the script).
set -u
T0=$(date +%s); BUDGET=${1:-540}; QUICK=${QUICK:-0}
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-runs/smollm2}; mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
R=$OUT/work; mkdir -p "$R"
left() { echo $(( BUDGET - ($(date +%s) - T0) )); }
log() { echo "[$(( $(date +%s) - T0 ))s] $*" | tee -a "$R/steps.log"; }
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
. scripts/_python.sh
M=${HOTEL_AGENT_CACHE:-$HOME/.cache/hotel-agent}/models/smollm2; G=SmolLM2-135M-Instruct.Q4_1.gguf
[ -f "$M/$G" ] || { echo "no $M/$G: run \`hotel-agent models fetch smollm2\` first"; exit 2; }
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1
  $PY -c "import torch, transformers, peft, bitsandbytes; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'transformers', transformers.__version__, 'peft', peft.__version__, 'bitsandbytes', bitsandbytes.__version__)" 2>&1
} | tee "$R/machine.txt"
$PY -c "from backends.llm.loading import dequantized_copy; print(dequantized_copy('$M', '$G'))" > "$R/dequant.log" 2>&1 \
  || { log "de-quantized copy FAILED"; tail -5 "$R/dequant.log"; }
log "setup done"
# One config for both methods: finetune/configs/smollm2-135m-lora.yaml (the reference's LoRA shape, lr 1e-3,
# 3 epochs, batch 16, compact record JSON); --method qlora switches only the base to 4-bit.
CONFIG=finetune/configs/smollm2-135m-lora.yaml
if [ "$QUICK" = 1 ]; then TL="--max-steps 2 --limit-dialogues 8 --dev-limit 4"; EL="--limit 4"; else TL=""; EL=""; fi
evaluate() {  # backend, backend args...
  local b=$1; shift
  if [ "$(left)" -le 45 ]; then log "eval $b skipped: the budget is spent"; return; fi
  log "eval $b start"
  timeout $(( $(left) - 25 )) $PY -m evalharness run --backend "$b" "$@" --batch-size "${EVAL_BATCH:-64}" \
    --out "$R/eval-$b" --quiet $EL > "$R/eval-$b.log" 2>&1
  log "eval $b exit $? after $(wc -l < "$R/eval-$b/predictions.jsonl" 2>/dev/null) predictions"
}
pipeline() {  # method, training time limit in minutes
  local m=$1 minutes=$2
  log "train $m start (time limit $minutes min)"
  $PY -m finetune.cli run --family smollm2 --method "$m" --model "$M" --gguf-file "$G" --config "$CONFIG" \
    --out "$R/$m-smollm2" --time-limit "$minutes" $TL > "$R/train-$m.log" 2>&1
  log "train $m exit $? $(grep -E '^(train: [0-9]|time limit|final)' "$R/train-$m.log" | tr '\n' ' ')"
  evaluate "$m-smollm2" --adapter "$R/$m-smollm2"
}
pipeline lora "${LORA_MINUTES:-3.5}" &
pipeline qlora "${QLORA_MINUTES:-4.5}" &
sleep 5; evaluate prompt-smollm2 &
wait
# checkpoints: keep the adapters of the intermediate ones (equal-step comparisons), not optimizer states
rm -f "$R"/*/checkpoints/*/optimizer.pt
for d in "$R/lora-smollm2" "$R/qlora-smollm2"; do
  s=$($PY -c "import json; print(json.load(open('$d/hotel_agent.json'))['extra']['steps'])" 2>/dev/null) \
    && rm -rf "$d/checkpoints/checkpoint-$s"
done
log "all done"
tar -czf "$OUT/adapters.tgz" -C "$R" $(cd "$R" && ls -d lora-smollm2 qlora-smollm2 2>/dev/null)
tar -czf "$OUT/runs.tgz" -C "$R" $(cd "$R" && ls | grep -v -x -E 'q?lora-smollm2')
ls -la "$OUT"
