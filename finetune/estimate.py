"""GPU memory needed to fine-tune a decoder-only transformer: weights, gradients, optimizer states, activations.

A back-of-the-envelope model, not a profiler: every byte count below is a stated assumption, so the table
can be checked against published figures (README, `finetune estimate`). The reference models' shapes are bundled
(their published config.json files in `finetune/configs/architectures/`), so no weights or downloads are needed;
a local model directory's own config.json works too."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.core.errors import UserError
from prompts.families import FAMILIES

GIB = 1024**3
ARCHITECTURES_DIR = Path(__file__).parent / "configs" / "architectures"
# Family names as shorthands for their reference model's shape.
ALIASES = {
    "glm4": "glm-4-9b-chat",
    "llama3": "Llama-3.1-8B-Instruct",
    "qwen2": "Qwen2-7B-Instruct",
    "smollm2": "SmolLM2-135M-Instruct",
}


@dataclass(frozen=True)
class Architecture:
    name: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    intermediate: int
    vocab: int
    tied_embeddings: bool = False
    model_type: str = "llama"  # decides the module names: llama/qwen2, glm (fused gate_up), chatglm (fused qkv)
    head_size: int | None = None  # config.json head_dim / kv_channels when it is not hidden / heads
    qkv_bias: bool = False  # Qwen2 and GLM-4 add biases to the query, key and value projections

    @property
    def head_dim(self) -> int:
        return self.head_size or self.hidden // self.heads

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim

    def projections(self) -> dict[str, tuple[int, int]]:
        """(in_features, out_features) of each linear layer of a decoder layer, by the module names this layout
        uses (what LoRA's target_modules name)."""
        h, q, kv, i = self.hidden, self.heads * self.head_dim, self.kv_dim, self.intermediate
        if self.model_type == "chatglm":  # glm-4-9b-chat's own code: fused q/k/v and fused gate/up
            return {
                "query_key_value": (h, q + 2 * kv),
                "dense": (q, h),
                "dense_h_to_4h": (h, 2 * i),
                "dense_4h_to_h": (i, h),
            }
        shapes = {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h)}
        if self.model_type == "glm":  # GlmForCausalLM fuses the MLP's gate and up projections
            shapes.update(gate_up_proj=(h, 2 * i), down_proj=(i, h))
        else:
            shapes.update(gate_proj=(h, i), up_proj=(h, i), down_proj=(i, h))
        return shapes

    def layer_linear_parameters(self) -> int:
        """The attention and MLP projections of one layer: the weights QLoRA quantizes."""
        return sum(fan_in * fan_out for fan_in, fan_out in self.projections().values())

    def linear_parameters(self) -> int:
        return self.layers * self.layer_linear_parameters()

    def other_parameters(self) -> int:
        """Embeddings, the output head and the norms: not quantized under QLoRA."""
        embeddings = self.vocab * self.hidden * (1 if self.tied_embeddings else 2)
        norms = self.layers * 2 * self.hidden + self.hidden
        return embeddings + norms

    def bias_parameters(self) -> int:
        return self.layers * (self.heads * self.head_dim + 2 * self.kv_dim) if self.qkv_bias else 0

    def parameters(self) -> int:
        return self.linear_parameters() + self.other_parameters() + self.bias_parameters()

    def default_targets(self) -> tuple[str, ...]:
        """The family table's LoRA targets for this layout (query and value where no family claims it)."""
        for family in FAMILIES.values():
            for layout in family.layouts:
                if self.model_type in layout.model_types:
                    return layout.lora_target_modules
        return ("q_proj", "v_proj")

    def lora_parameters(self, r: int, targets: Sequence[str] | None = None) -> int:
        """r·(in + out) per adapted matrix and layer (PEFT's count; bias-free LoRA)."""
        return self.layers * r * sum(fan_in + fan_out for fan_in, fan_out in self.target_shapes(targets))

    def target_shapes(self, targets: Sequence[str] | None = None) -> list[tuple[int, int]]:
        shapes = self.projections()
        targets = tuple(targets) if targets is not None else self.default_targets()
        missing = [t for t in targets if t not in shapes]
        if missing:
            raise UserError(
                f"target_modules {missing} are not in {self.name} ({self.model_type} layout); "
                f"its projections are {', '.join(shapes)}"
            )
        return [shapes[t] for t in targets]


def architecture_from_config(name: str, config: dict[str, Any]) -> Architecture:
    """An Architecture from a config.json dict: Llama / Qwen2 / GLM key names, or glm-4-9b-chat's own
    (num_layers, ffn_hidden_size, multi_query_group_num, kv_channels, padded_vocab_size)."""

    def first(*keys: str) -> Any:
        for key in keys:
            if config.get(key) is not None:
                return config[key]
        raise UserError(f"{name}: config.json has none of {', '.join(keys)}")

    heads = int(first("num_attention_heads"))
    if config.get("num_key_value_heads"):
        kv_heads = int(config["num_key_value_heads"])
    elif config.get("multi_query_attention"):
        kv_heads = int(config["multi_query_group_num"])
    else:
        kv_heads = heads
    head_size = config.get("head_dim") or config.get("kv_channels")
    model_type = str(config.get("model_type", "llama"))
    # Qwen2 always has q/k/v biases (its config has no key for it); GLM-4 says so in add_qkv_bias / attention_bias
    qkv_bias = model_type == "qwen2" or bool(config.get("add_qkv_bias") or config.get("attention_bias"))
    return Architecture(
        name=name,
        layers=int(first("num_hidden_layers", "num_layers")),
        hidden=int(first("hidden_size")),
        heads=heads,
        kv_heads=kv_heads,
        intermediate=int(first("intermediate_size", "ffn_hidden_size")),
        vocab=int(first("padded_vocab_size", "vocab_size")),
        tied_embeddings=bool(config.get("tie_word_embeddings", False)),
        model_type=model_type,
        head_size=int(head_size) if head_size else None,
        qkv_bias=qkv_bias,
    )


def bundled_names() -> list[str]:
    return sorted(p.stem for p in ARCHITECTURES_DIR.glob("*.json"))


def find_config_json(model: str) -> tuple[str, dict[str, Any]]:
    """(name, config.json dict) for `model`: a local directory with a config.json, a bundled model by hub id,
    name or family (`THUDM/glm-4-9b-chat`, `Llama-3.1-8B-Instruct`, `qwen2`), or a directory named like one."""
    directory = Path(model).expanduser()
    if (directory / "config.json").is_file():
        return directory.name, json.loads((directory / "config.json").read_text(encoding="utf-8"))
    wanted = ALIASES.get(model.lower(), model.rstrip("/").rsplit("/", 1)[-1]).lower()
    for stem in bundled_names():
        if stem.lower() == wanted:
            return stem, json.loads((ARCHITECTURES_DIR / f"{stem}.json").read_text(encoding="utf-8"))
    raise UserError(
        f"no bundled architecture for {model!r}; use one of {', '.join(bundled_names())}, a family name "
        f"({', '.join(ALIASES)}), a local model directory with a config.json, or --params N"
    )


def find_architecture(model: str) -> Architecture:
    return architecture_from_config(*find_config_json(model))


def llama_shaped(parameters: float) -> Architecture:
    """A LLaMA-2-shaped model of about `parameters` weights, for `--params N`: layers = hidden/128,
    intermediate = 2.6875·hidden, 32,000-token vocabulary, full multi-head attention (LLaMA-2-7B exactly)."""
    if parameters < 1e6:
        raise UserError(f"--params must be at least 1e6, got {parameters:g}")

    def count(hidden: float) -> float:
        return (hidden / 128) * (4 + 3 * 2.6875) * hidden**2 + 2 * 32000 * hidden

    low, high = 64.0, 65536.0
    for _ in range(60):  # bisection: count() is increasing in hidden
        mid = (low + high) / 2
        low, high = (mid, high) if count(mid) < parameters else (low, mid)
    hidden = max(128, int(round(low / 128)) * 128)
    heads = hidden // 128
    return Architecture(
        f"LLaMA-shaped {parameters / 1e9:.1f}B",
        max(1, hidden // 128),
        hidden,
        heads,
        heads,
        int(round(hidden * 2.6875 / 256)) * 256,
        32000,
    )


@dataclass(frozen=True)
class MemoryEstimate:
    architecture: Architecture
    method: str
    seq_len: int
    batch: int
    gradient_checkpointing: bool
    optimizer: str
    total_parameters: int
    trainable_parameters: int
    weights: float  # bytes
    gradients: float
    optimizer_states: float
    activations: float
    overhead: float
    target_modules: tuple[str, ...] = ()
    precision: str = "bf16"

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer_states + self.activations + self.overhead

    def rows(self) -> list[tuple[str, float, str]]:
        half = "fp32" if self.precision == "fp32" else self.precision
        weight_note = {
            "full": f"{half}",
            "lora": f"{half} base + fp32 adapter",
            "qlora": "NF4 + double-quant linears, fp32 embeddings/head/norms (prepare_model_for_kbit_training), "
            "fp32 adapter",
        }[self.method]
        targets = ", ".join(self.target_modules)
        return [
            ("parameters", self.weights, weight_note),
            (
                "gradients",
                self.gradients,
                f"{half} per weight" if self.method == "full" else f"fp32, adapter only (LoRA on {targets})",
            ),
            (
                "optimizer states",
                self.optimizer_states,
                _OPTIMIZER_NOTE[self.optimizer] + (" + fp32 master weights" if self.method == "full" else ""),
            ),
            (
                "activations",
                self.activations,
                f"seq {self.seq_len} × batch {self.batch}, "
                + ("checkpointed" if self.gradient_checkpointing else "no checkpointing")
                + ", incl. logits",
            ),
            ("CUDA context etc.", self.overhead, "fixed allowance"),
        ]

    def table(self) -> str:
        a = self.architecture
        lines = [
            f"{a.name}: {a.layers} layers, hidden {a.hidden}, {a.heads} heads ({a.kv_heads} kv), "
            f"intermediate {a.intermediate}, vocab {a.vocab}",
            f"method {self.method}: {self.total_parameters / 1e9:.2f}B parameters, "
            f"{self.trainable_parameters / 1e6:,.1f}M trainable, optimizer {self.optimizer}",
            "",
            f"{'':<20}{'GiB':>8}  assumption",
            "-" * 72,
        ]
        lines += [f"{name:<20}{size / GIB:>8.2f}  {note}" for name, size, note in self.rows()]
        lines += ["-" * 72, f"{'total':<20}{self.total / GIB:>8.2f}", self.fits_line()]
        return "\n".join(lines)

    def fits(self, gigabytes: float) -> bool:
        """Whether the total fits a GPU sold as `gigabytes` GB (decimal, as the cards are labelled)."""
        return self.total <= gigabytes * 1e9

    def fits_line(self) -> str:
        return "fits a GPU of: " + ", ".join(f"{gb} GB {'yes' if self.fits(gb) else 'no'}" for gb in GPU_SIZES_GB)


GPU_SIZES_GB = (16, 24, 40, 80)  # T4/V100-16, RTX 4090/A10/L4, A100-40, A100/H100-80
_OPTIMIZER_NOTE = {"adamw": "AdamW: two fp32 moments", "paged_adamw_8bit": "8-bit AdamW: two 1-byte moments"}
# NF4 stores 4 bits per weight plus one absmax per 64-weight block; double quantization stores those absmax
# values in 8 bits with one fp32 constant per 256 blocks (QLoRA paper, section 3).
NF4_BYTES_PER_WEIGHT = 0.5 + 1 / 64 + 4 / (64 * 256)
OVERHEAD_BYTES = 0.75 * GIB  # CUDA context, cuBLAS workspace, allocator slack


def optimizer_kind(name: str | None, method: str) -> str:
    """A transformers optimizer name (adamw_torch, paged_adamw_8bit, ...) as the two kinds the estimate knows:
    8-bit moments or fp32 moments. None: adamw for full fine-tuning, paged 8-bit AdamW for LoRA/QLoRA."""
    if name is None:
        return "adamw" if method == "full" else "paged_adamw_8bit"
    return "paged_adamw_8bit" if "8bit" in name else "adamw"


def estimate_memory(
    architecture: Architecture,
    method: str,
    *,
    seq_len: int = 1024,
    batch: int = 1,
    lora_r: int = 8,
    gradient_checkpointing: bool = False,
    optimizer: str | None = None,
    target_modules: Sequence[str] | None = None,
    precision: str = "bf16",
) -> MemoryEstimate:
    """`target_modules` None: the family table's targets for the architecture's layout. `precision`: bf16 or fp16
    (2 bytes per base weight and activation) or fp32 (4)."""
    if method not in ("full", "lora", "qlora"):
        raise UserError(f"unknown method {method!r}; choose full, lora or qlora")
    if seq_len < 1 or batch < 1:
        raise UserError("--seq-len and --batch must be positive")
    a = architecture
    optimizer = optimizer_kind(optimizer, method)
    targets = tuple(target_modules) if target_modules is not None else a.default_targets()
    word = 4.0 if precision == "fp32" else 2.0
    total = a.parameters()
    trainable = total if method == "full" else a.lora_parameters(lora_r, targets)
    if method == "full":
        weights = word * total
        gradients = word * total
        master = 4.0 * total if word < 4 else 0.0
    else:
        # prepare_model_for_kbit_training (finetune.recipe) upcasts QLoRA's unquantized weights to fp32
        unquantized = a.other_parameters() + a.bias_parameters()
        base = word * total if method == "lora" else NF4_BYTES_PER_WEIGHT * a.linear_parameters() + 4.0 * unquantized
        weights = base + 4.0 * trainable  # peft keeps adapter weights in fp32
        gradients = 4.0 * trainable
        master = 0.0
    moments = (8.0 if optimizer == "adamw" else 2.0) * trainable
    dropout_inputs = [] if method == "full" else [fan_in for fan_in, _ in a.target_shapes(targets)]
    return MemoryEstimate(
        a,
        method,
        seq_len,
        batch,
        gradient_checkpointing,
        optimizer,
        total,
        trainable,
        weights,
        gradients,
        moments + master,
        activation_bytes(a, seq_len * batch, gradient_checkpointing, dropout_inputs, word),
        OVERHEAD_BYTES,
        targets if method != "full" else (),
        precision,
    )


def activation_bytes(
    a: Architecture,
    tokens: int,
    gradient_checkpointing: bool,
    dropout_inputs: Sequence[int] = (),
    word: float = 2.0,
) -> float:
    """Bytes autograd keeps for the backward pass, with fused (SDPA/flash) attention so no seq² term.

    Per token and layer, in 16-bit words (`word` bytes: 2, or 4 in fp32): both RMSNorms keep their input and
    output and an fp32 upcast (2·(2h+2h+4h) = 16h bytes at 2-byte words), attention keeps q, k, v (2h + 4·kv_dim)
    and its output (2h), the gated MLP keeps gate, up, SiLU output and their product (8·intermediate). LoRA's
    dropout copies the input of every adapted projection (`dropout_inputs`, 2 bytes each). Checkpointing keeps
    only each layer's input (2h) and recomputes one layer at a time. Logits: bf16 + fp32 copy + fp32 gradient,
    10 bytes per vocabulary entry."""
    per_layer = (20 * a.hidden + 4 * a.kv_dim + 8 * a.intermediate + 2 * sum(dropout_inputs)) * word / 2
    if gradient_checkpointing:
        body = tokens * (a.layers * word * a.hidden + per_layer)
    else:
        body = tokens * a.layers * per_layer
    return float(body + tokens * 10 * a.vocab)


def parse_count(text: str) -> float:
    """'7B', '7e9', '135M' → a number of parameters."""
    text = text.strip().upper().replace("_", "").replace(",", "")
    scale = {"K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12}.get(text[-1:], 1.0)
    digits = text[:-1] if text[-1:] in "KMBGT" else text
    try:
        value = float(digits) * scale
    except ValueError:
        raise UserError(f"--params must be a number such as 7B, 135M or 7e9, got {text!r}") from None
    if not math.isfinite(value):
        raise UserError(f"--params must be finite, got {text!r}")
    return value
