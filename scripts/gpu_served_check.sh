#!/usr/bin/env bash
# GPU check of the served backend: vLLM serves a model (and a LoRA adapter), evalharness runs through it in
# template mode with token-id prompts and 32 requests in flight. Skips (exit 0) without vLLM or a GPU.
#
#   bash scripts/gpu_served_check.sh [MODEL_DIR [ADAPTER_DIR]]
#
# MODEL_DIR: a qwen2-family model directory with its tokenizer (default: a tiny random Qwen2 built here, as
# scripts/gpu_check.sh builds one; pass gpu_check's "$WORK/model" "$WORK/qlora" to serve its QLoRA adapter too).
# Prints samples/s and tokens/s; ends with `SERVED CHECK PASSED`, `FAILED` or `SKIPPED`.
set -u -o pipefail
START=$(date +%s)
cd "$(dirname "$0")/.." || exit 2
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
. scripts/_python.sh
WORK="$(mktemp -d /tmp/gpu_served_check.XXXXXX)"
step() { echo; echo "=== $* ($(( $(date +%s) - START )) s) ==="; }

step "vLLM and GPU"
if ! "$PY" -c "import vllm" 2>/dev/null; then echo "vLLM is not installed"; echo "SERVED CHECK SKIPPED"; exit 0; fi
if ! nvidia-smi --list-gpus >/dev/null 2>&1; then echo "no GPU"; echo "SERVED CHECK SKIPPED"; exit 0; fi
"$PY" -c "import vllm; print('  vllm', vllm.__version__)"

MODEL_DIR=${1:-}
ADAPTER=${2:-}
if [ -z "$MODEL_DIR" ]; then
  step "tiny model"
  MODEL_DIR="$WORK/model"
  timeout 120 "$PY" - "$MODEL_DIR" <<'EOF' || { echo "FAILED: building the tiny model"; echo "SERVED CHECK FAILED"; exit 1; }
import sys
sys.path.insert(0, "tests")
import torch
from transformers import AutoModelForCausalLM
import tiny_models
tokenizer = tiny_models.tiny_tokenizer("qwen2")
config = tiny_models.tiny_config("qwen2", tokenizer)
config.hidden_size, config.intermediate_size, config.num_hidden_layers = 256, 768, 4
config.num_attention_heads, config.num_key_value_heads, config.head_dim = 8, 2, 32
config.layer_types = ["full_attention"] * config.num_hidden_layers
torch.manual_seed(0)
model = AutoModelForCausalLM.from_config(config)
model.save_pretrained(sys.argv[1])
tokenizer.save_pretrained(sys.argv[1])
print("  tiny qwen2 model in", sys.argv[1])
EOF
fi

step "vllm serve"
PORT=$("$PY" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
NAME=$( [ -n "$ADAPTER" ] && basename "$ADAPTER" || echo "$MODEL_DIR" )
MODEL="$MODEL_DIR" PORT=$PORT TP=1 PYTHON="$PY" bash scripts/serve_vllm.sh qwen2 ${ADAPTER:+"$ADAPTER"} -- \
  --gpu-memory-utilization 0.3 --enforce-eager --max-model-len 4096 > "$WORK/vllm.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null 2>&1 && break
  kill -0 $SERVER 2>/dev/null || { tail -20 "$WORK/vllm.log"; echo "SERVED CHECK FAILED"; exit 1; }
  sleep 1
done
echo "  serving $NAME on port $PORT"

step "evalharness through vLLM (template mode, token ids, 32 in flight)"
if timeout 300 "$PY" -m evalharness run --backend served --base-url "http://127.0.0.1:$PORT/v1" --model "$NAME" \
     --served-mode template --family qwen2 --tokenizer "$MODEL_DIR" ${ADAPTER:+--adapter "$ADAPTER"} \
     --limit 64 --concurrency 32 --max-new-tokens 32 --out "$WORK/run" --quiet > "$WORK/eval.log" 2>&1; then
  "$PY" - "$WORK/run/summary.json" <<'EOF' || { echo "SERVED CHECK FAILED"; exit 1; }
import json, sys
summary = json.load(open(sys.argv[1]))
run, backend = summary["run"], summary["signature"]["backend"]
print(f"  {summary['metrics']['samples']} samples, {run['failed']} failed, {run['samples_per_s']} samples/s, "
      f"{run['tokens_per_s']} tokens/s, prompt sent as {backend['prompt_transport']}")
sys.exit(0 if run["failed"] == 0 and backend["prompt_transport"] == "token-ids" else 1)
EOF
else
  tail -5 "$WORK/eval.log"; echo "SERVED CHECK FAILED"; exit 1
fi

step "done"
echo "total $(( $(date +%s) - START )) s; logs in $WORK"
echo "SERVED CHECK PASSED"
