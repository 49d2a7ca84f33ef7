#!/usr/bin/env bash
# GPU smoke check for finetune and the LLM backends, in under 2 minutes on one H100/H200.
#
#   bash scripts/gpu_check.sh            # from the repository root (a plain copy is enough)
#
# It installs nothing unless a module is missing: it runs from the source tree with PYTHONPATH=., checks the
# imports, and only then tries `pip install` of what is missing (60 s cap; offline machines just report it).
# Then, on a tiny random Qwen2-architecture model (no downloads):
#   1. QLoRA (4-bit NF4, double quant, bf16 compute, paged_adamw_8bit, gradient checkpointing) for 30 steps
#   2. LoRA in bf16 for 15 steps
#   3. batched generation with the QLoRA adapter (through the qlora-qwen2 backend when it exists)
# printing loss, tokens/s and peak GPU memory of each. Exit status 0 only when every step passed.
set -u -o pipefail
START=$(date +%s)
cd "$(dirname "$0")/.." || exit 2
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
. scripts/_python.sh
WORK="$(mktemp -d /tmp/gpu_check.XXXXXX)"
FAILED=0
step() { echo; echo "=== $* ($(( $(date +%s) - START )) s) ==="; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not found"
"$PY" --version

step "imports"
cat > "$WORK/check_imports.py" <<'EOF'
import importlib, importlib.metadata, sys
# what training needs; the optional ones only cost a feature (loss.png, the backend registry for generation)
required = {"torch": "torch", "transformers": "transformers", "peft": "peft", "accelerate": "accelerate",
            "bitsandbytes": "bitsandbytes", "tokenizers": "tokenizers", "click": "click", "jinja2": "jinja2",
            "yaml": "pyyaml", "platformdirs": "platformdirs", "tqdm": "tqdm"}
optional = {"matplotlib": "matplotlib", "tinydb": "tinydb"}
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
EOF
MISSING=$("$PY" "$WORK/check_imports.py")
if [ -n "$MISSING" ]; then
  case " $MISSING " in *" torch "*) echo "torch is missing: install a CUDA build of torch first"; exit 2;; esac
  echo "missing: $MISSING — trying pip install (60 s cap)"
  timeout 60 "$PY" -m pip install -q --retries 0 --timeout 5 $MISSING 2>&1 | tail -3
  STILL=$("$PY" "$WORK/check_imports.py" 2>/dev/null)
  if [ -n "$STILL" ]; then echo "STILL MISSING: $STILL — cannot run the check (pip install $STILL)"; exit 2; fi
fi
# GPU_CHECK_ALLOW_CPU=1 allows a dry run of this script on a machine without a GPU (slow, no GPU figures).
"$PY" - <<'EOF' || exit 2
import os, sys, torch
if torch.cuda.is_available():
    print("  cuda", torch.version.cuda, torch.cuda.get_device_name(0),
          "bf16" if torch.cuda.is_bf16_supported() else "no bf16")
elif os.environ.get("GPU_CHECK_ALLOW_CPU"):
    print("  no CUDA device: dry run on CPU")
else:
    sys.exit("torch sees no CUDA device (torch %s, built for CUDA %s)" % (torch.__version__, torch.version.cuda))
EOF

step "tiny model and data"
# The real dialogues when a data dir has them; otherwise a synthetic file in the course's format.
if [ -z "${HOTEL_AGENT_DATA:-}" ]; then
  for d in ../shared/data data; do [ -f "$d/hotel/train.glm4.jsonl" ] && export HOTEL_AGENT_DATA="$(cd "$d" && pwd)" && break; done
fi
if [ -z "${HOTEL_AGENT_DATA:-}" ] || [ ! -f "$HOTEL_AGENT_DATA/hotel/train.glm4.jsonl" ]; then
  export HOTEL_AGENT_DATA="$WORK/data"
  echo "  no course data found: writing 240 synthetic dialogues to $HOTEL_AGENT_DATA"
fi
export HOTEL_AGENT_CACHE="$WORK/cache"
timeout 60 "$PY" - "$WORK" <<'EOF' || { echo "FAILED: building the tiny model"; exit 1; }
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
EOF

run_train() {  # name, extra args...
  local name=$1; shift
  step "$name"
  if timeout 150 "$PY" -m finetune.cli run --family qwen2 --model "$WORK/model" --out "$WORK/$name" \
       --limit-dialogues 200 --dev-limit 32 --batch-size 8 --save-steps 15 "$@" > "$WORK/$name.log" 2>&1; then
    grep -E "^(train: [0-9]|trainable|final train loss)" "$WORK/$name.log"
  else
    echo "FAILED: $name (last lines of its log:)"; tail -25 "$WORK/$name.log"; FAILED=1
  fi
}
run_train qlora --method qlora --max-steps 30 --gradient-checkpointing --learning-rate 2e-3
run_train lora --method lora --max-steps 15 --learning-rate 2e-3

step "batched generation (qlora adapter)"
if [ -f "$WORK/qlora/adapter_model.safetensors" ]; then
  timeout 90 "$PY" - "$WORK" <<'EOF' || { echo "FAILED: generation"; FAILED=1; }
import sys, time
from pathlib import Path
import torch
from agent.core.codecs import read_dialogues
from agent.core.datafiles import data_path
work = Path(sys.argv[1])
dialogues = [d[:1] for d in list(read_dialogues(data_path("hotel/dev.glm4.jsonl")))[:8]]
cuda = torch.cuda.is_available()
device = "cuda" if cuda else "cpu"
if cuda:
    torch.cuda.reset_peak_memory_stats()
start = time.perf_counter()
try:
    from backends import registry
    backend = registry.create("qlora-qwen2", model=str(work / "model"), adapter=str(work / "qlora"),
                              max_new_tokens=48)
    via = "backend qlora-qwen2"
except Exception as e:  # the LoRA backends may not be merged yet: generate with peft directly
    print(f"  (qlora-qwen2 backend unavailable: {type(e).__name__}: {str(e)[:100]}; using peft directly)")
    backend = None
if backend is not None:
    predictions = backend.predict(dialogues)
    texts = [p.raw or str(p.turn) for p in predictions]
else:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig
    from backends.llm.encoding import encode_dialogue, stop_token_ids
    tokenizer = AutoTokenizer.from_pretrained(work / "model")
    q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                           bnb_4bit_compute_dtype=torch.bfloat16 if cuda else torch.float32)
    model = AutoModelForCausalLM.from_pretrained(work / "model", quantization_config=q, device_map={"": device})
    model = PeftModel.from_pretrained(model, work / "qlora").eval()
    prompts = [encode_dialogue(tokenizer, "qwen2", d, add_generation_prompt=True)[0] for d in dialogues]
    longest = max(map(len, prompts))
    pad = tokenizer.pad_token_id
    ids = torch.tensor([[pad] * (longest - len(p)) + p for p in prompts], device=device)  # left padding
    mask = torch.tensor([[0] * (longest - len(p)) + [1] * len(p) for p in prompts], device=device)
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=48, do_sample=False,
                             eos_token_id=stop_token_ids(tokenizer, "qwen2"), pad_token_id=pad)
    texts = tokenizer.batch_decode(out[:, longest:], skip_special_tokens=False)
    via = "peft generate"
seconds = time.perf_counter() - start
peak = f", peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB" if cuda else ""
print(f"  {len(texts)} dialogues in one batch via {via}: {seconds:.2f} s{peak}")
for t in texts[:3]:
    print("  >", repr(t[:100]))
EOF
else
  echo "skipped: no qlora adapter"; FAILED=1
fi

step "done"
echo "total $(( $(date +%s) - START )) s; logs in $WORK"
[ "$FAILED" = 0 ] && echo "GPU CHECK PASSED" || echo "GPU CHECK FAILED"
exit "$FAILED"
