#!/usr/bin/env bash
# Serve a family's base model with vLLM's OpenAI-compatible server, plus one of our LoRA / QLoRA adapters, for
# `hotel-agent` / `evalharness` with `--backend served` (docs/served.md).
#
#   scripts/serve_vllm.sh FAMILY [ADAPTER_DIR]      e.g.  scripts/serve_vllm.sh llama3 adapters/qlora-llama3
#
# FAMILY: glm4, llama3, qwen2 or smollm2. The base model is the adapter's own (its adapter_config.json), else the
# family's default hub id; MODEL=... overrides it. With ADAPTER_DIR the adapter is served under its directory
# name (e.g. `qlora-llama3`): pass that as --model, with --served-mode template --adapter ADAPTER_DIR, so the
# prompt is our family template as token ids, exactly as in training:
#
#   evalharness run --backend served --base-url http://127.0.0.1:8000/v1 --model qlora-llama3 \
#       --served-mode template --adapter adapters/qlora-llama3 --concurrency 32
#
# Environment (all optional):
#   HOST (127.0.0.1)  PORT (8000)  MODEL (base model)  MAX_MODEL_LEN (8192)
#   TP           tensor-parallel size: GPUs one model is split over (default: every visible GPU)
#   QUANTIZE     "bitsandbytes" serves the base in 4-bit NF4 as QLoRA trained it (default: bf16, faster)
#   CHAT_TEMPLATE a Jinja chat template for chat mode, when the base model's own does not fit
#   DRY_RUN=1    print the vllm command instead of running it
# Arguments after `--` go to `vllm serve` unchanged (e.g. -- --gpu-memory-utilization 0.85).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
FAMILY=$1; shift
ADAPTER=""
if [ $# -ge 1 ] && [ "$1" != "--" ]; then ADAPTER=$1; shift; fi
[ "${1:-}" = "--" ] && shift

PY=${PYTHON:-python3}
# The family table is the one place that knows default models; the adapter's config knows its base.
read -r DEFAULT_MODEL TOOL_PARSER < <(
  PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" "$PY" - "$FAMILY" "$ADAPTER" <<'EOF'
import json, sys
from pathlib import Path
from prompts.families import FAMILIES
family, adapter = sys.argv[1], sys.argv[2]
if family not in FAMILIES:
    sys.exit(f"error: unknown family {family!r}; choose one of: {', '.join(FAMILIES)}")
model = FAMILIES[family].default_model
if adapter:
    config = Path(adapter) / "adapter_config.json"
    if not config.is_file():
        sys.exit(f"error: no LoRA adapter in {adapter} (adapter_config.json missing)")
    model = json.loads(config.read_text())["base_model_name_or_path"] or model
# vLLM's tool-call parsers for chat mode (--served-mode chat); families without one answer in text, which
# our parser reads (GLM-4's `search_hotels\n{...}`).
parser = {"llama3": "llama3_json", "qwen2": "hermes"}.get(family, "-")
print(model, parser)
EOF
)
MODEL=${MODEL:-$DEFAULT_MODEL}

if [ -z "${TP:-}" ]; then
  TP=$(nvidia-smi --list-gpus 2>/dev/null | wc -l || true)
  [ "${TP:-0}" -ge 1 ] || TP=1
fi

args=(serve "$MODEL" --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" --tensor-parallel-size "$TP"
      --max-model-len "${MAX_MODEL_LEN:-8192}")
if [ -n "$ADAPTER" ]; then
  rank=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["r"])' "$ADAPTER/adapter_config.json")
  args+=(--enable-lora --max-lora-rank "$(( rank < 8 ? 8 : rank ))" --lora-modules "$(basename "$ADAPTER")=$ADAPTER")
fi
if [ "${QUANTIZE:-}" = "bitsandbytes" ]; then
  args+=(--quantization bitsandbytes)
fi
if [ "$TOOL_PARSER" != "-" ]; then
  args+=(--enable-auto-tool-choice --tool-call-parser "$TOOL_PARSER")
fi
if [ -n "${CHAT_TEMPLATE:-}" ]; then
  args+=(--chat-template "$CHAT_TEMPLATE")
fi
args+=("$@")

if [ "${DRY_RUN:-}" = "1" ]; then
  echo "vllm ${args[*]}"
  exit 0
fi
command -v vllm >/dev/null 2>&1 || { echo "error: vllm is not installed (pip install vllm, on a machine with a GPU)" >&2; exit 1; }
exec vllm "${args[@]}"
