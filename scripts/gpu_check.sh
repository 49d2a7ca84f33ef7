#!/usr/bin/env bash
# GPU check of finetune and the LLM backends, in stages, for a 15-minute device slot (docs/gpu.md).
#
#   bash scripts/gpu_check.sh                                   # every stage, within GPU_CHECK_BUDGET (600 s)
#   GPU_CHECK_STAGES=tiny bash scripts/gpu_check.sh             # one stage (tiny | smollm2 | served, comma-separated)
#   GPU_CHECK_ALLOW_CPU=1 GPU_CHECK_STEPS=2 GPU_CHECK_STAGES=tiny bash scripts/gpu_check.sh   # CPU rehearsal
#
# Stages:
#   tiny     a small random Qwen2-architecture model: QLoRA and LoRA, each in bf16 and in fp16 (loss-scaled),
#            GPU_CHECK_STEPS (20) steps each; hotel_agent.json must record the precision asked for, and the qlora-/lora-qwen2
#            backends must serve each adapter in that precision (batched generation). Loss, tokens/s, peak GPU
#            memory of each. One run goes through --device cuda:0 (the device pinning path).
#   smollm2  scripts/gpu_smollm2.sh: SmolLM2-135M LoRA and QLoRA for 3 epochs and their evaluation on the test
#            split (needs the GGUF: in the cache, or in parts from scripts/gpu_bundle.sh)
#   served   scripts/gpu_served_check.sh (vLLM) when that script and vLLM are there; skipped otherwise
#
# Offline machines: scripts/gpu_bundle.sh (run beforehand where the project is installed) leaves .gpu_bundle/
# with the packages the device lacks (put first on PYTHONPATH here), the course data and the SmolLM2 GGUF in
# parts (joined here, sha256-checked). GPU_CHECK_BUDGET (seconds, default 600) bounds the whole run; the
# SmolLM2 stage gets what the earlier stages left. RESULTS_DIR (default: a temp dir) receives gpu_check.log,
# results.json and the SmolLM2 archives — at most 8 files, so a device tool's $OUT can take them.
set -u -o pipefail
START=$(date +%s)
cd "$(dirname "$0")/.." || exit 2
STAGES=",${GPU_CHECK_STAGES:-tiny,smollm2,served},"
BUDGET=${GPU_CHECK_BUDGET:-600}
STEPS=${GPU_CHECK_STEPS:-20}
WORK="$(mktemp -d /tmp/gpu_check.XXXXXX)"
RESULTS_DIR=${RESULTS_DIR:-$WORK/results}
mkdir -p "$RESULTS_DIR"
exec > >(tee -a "$RESULTS_DIR/gpu_check.log") 2>&1
TEE=$!
finish() { exec 1>&- 2>&-; wait "$TEE" 2>/dev/null; exit "$1"; }  # let tee write the last lines first
BUNDLE="$PWD/.gpu_bundle"
if [ -d "$BUNDLE/site" ]; then export PYTHONPATH="$BUNDLE/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"; fi
export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
. scripts/_python.sh
FAILED=0
step() { echo; echo "=== $* ($(( $(date +%s) - START )) s) ==="; }
stage() { case "$STAGES" in *",$1,"*) return 0;; *) return 1;; esac; }
left() { echo $(( BUDGET - ($(date +%s) - START) )); }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not found"
"$PY" --version
echo "stages: ${STAGES//,/ }; budget ${BUDGET} s; results in $RESULTS_DIR"

step "data and model files"
if [ -z "${HOTEL_AGENT_DATA:-}" ]; then
  for d in "$BUNDLE/data" ../shared/data data; do
    [ -f "$d/hotel/train.glm4.jsonl" ] && export HOTEL_AGENT_DATA="$(cd "$d" && pwd)" && break
  done
fi
if [ -z "${HOTEL_AGENT_DATA:-}" ] || [ ! -f "$HOTEL_AGENT_DATA/hotel/train.glm4.jsonl" ]; then
  export HOTEL_AGENT_DATA="$WORK/data"
  echo "  no course data found: writing 240 synthetic dialogues to $HOTEL_AGENT_DATA"
fi
echo "  data: $HOTEL_AGENT_DATA"
export HOTEL_AGENT_CACHE="${HOTEL_AGENT_CACHE:-$WORK/cache}"
GGUF_NAME=SmolLM2-135M-Instruct.Q4_1.gguf
SMOL="$HOTEL_AGENT_CACHE/models/smollm2"
if [ ! -f "$SMOL/$GGUF_NAME" ] && [ -f "$BUNDLE/gguf-1/$GGUF_NAME.sha256" ]; then
  if [ -f "$BUNDLE/gguf-1/$GGUF_NAME.part1" ] && [ -f "$BUNDLE/gguf-2/$GGUF_NAME.part2" ]; then
    mkdir -p "$SMOL"
    cat "$BUNDLE/gguf-1/$GGUF_NAME.part1" "$BUNDLE/gguf-2/$GGUF_NAME.part2" > "$SMOL/$GGUF_NAME"
    if (cd "$SMOL" && sha256sum -c --quiet "$BUNDLE/gguf-1/$GGUF_NAME.sha256"); then echo "  $GGUF_NAME joined, sha256 ok"
    else echo "  $GGUF_NAME: sha256 mismatch after joining the parts"; rm -f "$SMOL/$GGUF_NAME"; fi
  else
    echo "  $GGUF_NAME: only part of it is here (.gpu_bundle/gguf-1 and gguf-2 come in two calls)"
  fi
fi

step "imports"
cat > "$WORK/check_imports.py" <<'PY'
import importlib, importlib.metadata, sys
# what training needs; the optional ones only cost a feature (loss.png)
required = {"torch": "torch", "transformers": "transformers", "peft": "peft", "accelerate": "accelerate",
            "bitsandbytes": "bitsandbytes", "tokenizers": "tokenizers", "click": "click", "jinja2": "jinja2",
            "yaml": "pyyaml", "platformdirs": "platformdirs", "tqdm": "tqdm", "tinydb": "tinydb", "gguf": "gguf",
            "sacrebleu": "sacrebleu"}
optional = {"matplotlib": "matplotlib"}
missing = []
for module, package in {**required, **optional}.items():
    try:
        importlib.import_module(module)
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = ""
        print(f"  ok       {module:<14}{version}", file=sys.stderr)
    except Exception as e:  # a broken install counts as missing
        kind = "MISSING " if module in required else "optional"
        print(f"  {kind} {module:<14}({type(e).__name__}: {str(e)[:80]})", file=sys.stderr)
        if module in required:
            missing.append(package)
print(" ".join(missing))
PY
MISSING=$("$PY" "$WORK/check_imports.py")
if [ -n "$MISSING" ]; then
  case " $MISSING " in *" torch "*) echo "torch is missing: install a CUDA build of torch first"; finish 2;; esac
  echo "missing: $MISSING — trying pip install (60 s cap; offline machines: scripts/gpu_bundle.sh)"
  timeout 60 "$PY" -m pip install -q --retries 0 --timeout 5 $MISSING 2>&1 | tail -3
  STILL=$("$PY" "$WORK/check_imports.py" 2>/dev/null)
  if [ -n "$STILL" ]; then echo "STILL MISSING: $STILL — cannot run the check"; finish 2; fi
fi
"$PY" -c "from backends.llm.versions import require_transformers; require_transformers()" || finish 2
"$PY" - <<'PY' || finish 2
import os, sys, torch
if torch.cuda.is_available():
    major, minor = torch.cuda.get_device_capability(0)
    print("  cuda", torch.version.cuda, torch.cuda.get_device_name(0), f"sm_{major}{minor}",
          "bf16" if major >= 8 else "no bf16 (bf16 runs fall back to fp16)")
elif os.environ.get("GPU_CHECK_ALLOW_CPU"):
    print("  no CUDA device: rehearsal on CPU (every precision becomes fp32; no GPU figures)")
else:
    sys.exit("torch sees no CUDA device (torch %s, built for CUDA %s)" % (torch.__version__, torch.version.cuda))
PY

if stage tiny; then
  step "tiny: model and data"
  timeout 120 "$PY" - "$WORK" <<'PY' || { echo "FAILED: building the tiny model"; finish 1; }
import os, random, sys
from pathlib import Path
sys.path.insert(0, "tests")
work = Path(sys.argv[1])
data = Path(os.environ["HOTEL_AGENT_DATA"])
if not (data / "hotel" / "train.glm4.jsonl").is_file():
    from agent.core.codecs import dialogue_to_json_line
    from agent.core.turns import AssistantTurn, Dialogue, ReturnTurn, SearchTurn, UserTurn
    (data / "hotel").mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    def dialogue(i):
        price, rating = rng.choice([200, 300, 400, 500, 800]), rng.choice([4, 4.5])
        name = f"测试{i}号酒店"
        return Dialogue((UserTurn(f"请帮我找一个价格低于{price}元、评分{rating}分以上的酒店"),
                         SearchTurn({"price_range_upper": price, "rating_range_lower": rating}),
                         ReturnTurn([{"name": name, "type": "经济型", "price": price - 50, "rating": rating,
                                      "facilities": ["无线网络"], "subway": "北京站", "phone": "010-1234"}]),
                         AssistantTurn(f"为您找到{name}，价格{price - 50}元，评分{rating}分。"),
                         UserTurn("谢谢"), AssistantTurn("不客气，祝您入住愉快！")))
    for split, n in (("train", 200), ("dev", 40)):
        (data / "hotel" / f"{split}.glm4.jsonl").write_text(
            "".join(dialogue_to_json_line(dialogue(i)) + "\n" for i in range(n)), encoding="utf-8")
import torch
from transformers import AutoModelForCausalLM
import tiny_models
tokenizer = tiny_models.tiny_tokenizer("qwen2")
config = tiny_models.tiny_config("qwen2", tokenizer)
# bigger than the CPU tests' model, so the GPU does real matmuls; hidden >= 64 for bitsandbytes' 4-bit blocks
config.hidden_size, config.intermediate_size, config.num_hidden_layers = 256, 768, 4
config.num_attention_heads, config.num_key_value_heads, config.head_dim = 8, 2, 32
config.layer_types = ["full_attention"] * config.num_hidden_layers
torch.manual_seed(0)
model = AutoModelForCausalLM.from_config(config)
model.save_pretrained(work / "model")
tokenizer.save_pretrained(work / "model")
print("  tiny qwen2 model:", sum(p.numel() for p in model.parameters()), "parameters")
PY

  run_train() {  # name, extra args...
    local name=$1; shift
    step "tiny: train $name"
    if timeout 150 "$PY" -m finetune.cli run --family qwen2 --model "$WORK/model" --out "$WORK/$name" \
         --limit-dialogues 160 --dev-limit 16 --batch-size 8 --gradient-accumulation-steps 1 --max-steps "$STEPS" \
         --save-steps "$STEPS" --learning-rate 2e-3 "$@" > "$WORK/$name.log" 2>&1; then
      grep -E "^(note:|train: [0-9]|trainable|final train loss)" "$WORK/$name.log"
    else
      echo "FAILED: $name (last lines of its log:)"; tail -25 "$WORK/$name.log"; FAILED=1
    fi
  }
  run_train qlora-bf16 --method qlora --precision bf16
  run_train qlora-fp16 --method qlora --precision fp16
  run_train lora-bf16 --method lora --precision bf16 --no-gradient-checkpointing
  # through --device cuda:0 once: the path that pins CUDA_VISIBLE_DEVICES (finetune/devices.py)
  DEVICE=$("$PY" -c "import torch; print('cuda:0' if torch.cuda.is_available() else 'cpu')")
  run_train lora-fp16 --method lora --precision fp16 --device "$DEVICE"

  step "tiny: each adapter served by its backend in its training precision"
  timeout 180 "$PY" - "$WORK" "$RESULTS_DIR/results.json" <<'PY' || { echo "FAILED: serving"; FAILED=1; }
import json, sys, time
from pathlib import Path
import torch
from agent.core.codecs import read_dialogues
from agent.core.datafiles import data_path
from backends import registry
from backends.llm.adapter_info import read_adapter_info
from backends.llm.precision import TORCH_DTYPE_NAMES
work, results_file = Path(sys.argv[1]), Path(sys.argv[2])
dialogues = [d[:1] for d in list(read_dialogues(data_path("hotel/dev.glm4.jsonl")))[:16]]
cuda = torch.cuda.is_available()
results, failed = {}, False
for name in ("qlora-bf16", "qlora-fp16", "lora-bf16", "lora-fp16"):
    adapter = work / name
    if not (adapter / "hotel_agent.json").is_file():
        print(f"  {name}: no adapter"); failed = True; continue
    info = read_adapter_info(adapter)
    extra = info.extra
    asked = name.split("-")[1]
    expected = asked if cuda else "fp32"
    if cuda and asked == "bf16" and torch.cuda.get_device_capability(0)[0] < 8:
        expected = "fp16"
    if cuda:
        torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    backend = registry.create(f"{info.method}-qwen2", model=str(work / "model"), adapter=str(adapter), max_new_tokens=32)
    predictions = backend.predict(dialogues)
    seconds = time.perf_counter() - start
    served = backend.signature()["dtype"]
    ok = info.precision == expected and served.split("-")[0] == TORCH_DTYPE_NAMES[expected]
    failed |= not ok
    row = {"trained_precision": info.precision, "served_dtype": served, "final_train_loss": extra["final_train_loss"],
           "tokens_per_second": extra["tokens_per_second"], "peak_gpu_memory_gib": extra["peak_gpu_memory_gib"],
           "generation_seconds": round(seconds, 2), "dialogues": len(predictions),
           "generation_peak_gpu_memory_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else None}
    results[name] = row
    peak = f", peak {row['peak_gpu_memory_gib']:.2f} GiB" if row["peak_gpu_memory_gib"] else ""
    print(f"  {name}: trained in {info.precision} (loss {row['final_train_loss']:.3f}, "
          f"{row['tokens_per_second']:,.0f} tokens/s{peak}); served as {served}: {len(predictions)} dialogues "
          f"in {seconds:.2f} s {'ok' if ok else 'MISMATCH (expected ' + expected + ')'}")
    print("    >", repr((predictions[0].raw or "")[:80]))
    del backend
results_file.write_text(json.dumps(results, indent=1))
sys.exit(1 if failed else 0)
PY
fi

if stage smollm2; then
  step "smollm2: 3 epochs LoRA and QLoRA, then their evaluation (scripts/gpu_smollm2.sh)"
  if [ ! -f "$SMOL/$GGUF_NAME" ]; then
    echo "FAILED: no $SMOL/$GGUF_NAME (carry .gpu_bundle/gguf-1 and gguf-2, or run \`hotel-agent models fetch smollm2\`)"
    FAILED=1
  else
    SMOL_BUDGET=$(( $(left) - 20 ))
    if [ "$SMOL_BUDGET" -lt 240 ]; then
      echo "FAILED: only $SMOL_BUDGET s left of GPU_CHECK_BUDGET=$BUDGET; the SmolLM2 stage needs 240+"; FAILED=1
    else
      # the trainings get what the evaluations leave: about 45% and 60% of the stage
      LORA_MINUTES=$(awk -v s="$SMOL_BUDGET" 'BEGIN {printf "%.1f", s * 0.40 / 60}') \
      QLORA_MINUTES=$(awk -v s="$SMOL_BUDGET" 'BEGIN {printf "%.1f", s * 0.55 / 60}') \
      OUT="$WORK/smollm2" bash scripts/gpu_smollm2.sh "$SMOL_BUDGET" || FAILED=1
      cp "$WORK/smollm2/adapters.tgz" "$WORK/smollm2/runs.tgz" "$RESULTS_DIR/" 2>/dev/null
      "$PY" - "$WORK/smollm2/work" <<'PY' || FAILED=1
import json, sys
from pathlib import Path
work, missing = Path(sys.argv[1]), []
for backend in ("lora-smollm2", "qlora-smollm2", "prompt-smollm2"):
    summary = work / f"eval-{backend}" / "summary.json"
    if not summary.is_file():
        print(f"  {backend}: no summary.json (evaluation unfinished; its run dir continues with --resume)")
        missing.append(backend); continue
    m = json.loads(summary.read_text())["metrics"]
    p = m["percent"]
    print(f"  {backend}: {m['samples']} samples, BLEU-4 {p['bleu-4']:.2f}, slot P {p['slot_P']:.2f} "
          f"R {p['slot_R']:.2f} F1 {p['slot_F1']:.2f}")
for method in ("lora", "qlora"):
    info = work / f"{method}-smollm2" / "hotel_agent.json"
    if info.is_file():
        e = json.loads(info.read_text())["extra"]
        dev = e["final_dev_loss"]
        peak = e["peak_gpu_memory_gib"]
        print(f"  train {method}: {e['steps']} steps ({'stopped by the time limit' if e['stopped_by_time_limit'] else 'complete'}), "
              f"loss {e['final_train_loss']:.3f}, dev loss {'-' if dev is None else f'{dev:.3f}'}, "
              f"{e['tokens_per_second']:,.0f} tokens/s, peak GPU memory {'-' if peak is None else f'{peak:.2f} GiB'}")
sys.exit(1 if missing else 0)
PY
    fi
  fi
fi

if stage served; then
  step "served: vLLM"
  if [ -f scripts/gpu_served_check.sh ]; then
    if [ -f "$WORK/qlora-bf16/adapter_config.json" ]; then bash scripts/gpu_served_check.sh "$WORK/model" "$WORK/qlora-bf16" || FAILED=1
    else bash scripts/gpu_served_check.sh || FAILED=1; fi
  else
    echo "skipped: scripts/gpu_served_check.sh is not in this checkout"
  fi
fi

step "done"
echo "total $(( $(date +%s) - START )) s; logs in $WORK, results in $RESULTS_DIR"
[ "$FAILED" = 0 ] && echo "GPU CHECK PASSED" || echo "GPU CHECK FAILED"
finish "$FAILED"
