"""GPU memory needed to fine-tune a decoder-only transformer: weights, gradients, optimizer states, activations.

A back-of-the-envelope model, not a profiler: every byte count below is a stated assumption, so the table
can be checked against published figures (README, `finetune estimate`). The three reference models' shapes are bundled
(from their config.json files), so no weights or downloads are needed."""

from __future__ import annotations

import math
from dataclasses import dataclass

from agent.core.errors import UserError

GIB = 1024**3


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

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim

    def layer_linear_parameters(self) -> int:
        """q, k, v, o projections and the gated MLP (gate, up, down): the weights QLoRA quantizes."""
        attention = self.hidden * self.hidden * 2 + self.hidden * self.kv_dim * 2
        mlp = 3 * self.hidden * self.intermediate
        return attention + mlp

    def linear_parameters(self) -> int:
        return self.layers * self.layer_linear_parameters()

    def other_parameters(self) -> int:
        """Embeddings, the output head and the norms: kept in 16 bits even under QLoRA."""
        embeddings = self.vocab * self.hidden * (1 if self.tied_embeddings else 2)
        norms = self.layers * 2 * self.hidden + self.hidden
        return embeddings + norms

    def parameters(self) -> int:
        return self.linear_parameters() + self.other_parameters()

    def lora_parameters(self, r: int) -> int:
        """LoRA on the query and value projections (the reference's targets): r·(in + out) per matrix."""
        return self.layers * r * ((self.hidden + self.hidden) + (self.hidden + self.kv_dim))


# From each model's config.json (num_hidden_layers, hidden_size, num_attention_heads, num_key_value_heads /
# multi_query_group_num, intermediate_size / ffn_hidden_size, vocab_size / padded_vocab_size).
REFERENCE_MODELS: dict[str, Architecture] = {
    "THUDM/glm-4-9b-chat": Architecture("glm-4-9b-chat", 40, 4096, 32, 2, 13696, 151552),
    "meta-llama/Llama-3.1-8B-Instruct": Architecture("Llama-3.1-8B-Instruct", 32, 4096, 32, 8, 14336, 128256),
    "Qwen/Qwen2-7B-Instruct": Architecture("Qwen2-7B-Instruct", 28, 3584, 28, 4, 18944, 152064),
}
ALIASES = {
    "glm4": "THUDM/glm-4-9b-chat",
    "llama3": "meta-llama/Llama-3.1-8B-Instruct",
    "qwen2": "Qwen/Qwen2-7B-Instruct",
}
for _id, _arch in list(REFERENCE_MODELS.items()):
    ALIASES[_arch.name.lower()] = _id
    ALIASES[_id.lower()] = _id


def find_architecture(model: str) -> Architecture:
    key = ALIASES.get(model.lower()) or ALIASES.get(model.lower().rsplit("/", 1)[-1])
    if key is None:
        known = ", ".join(REFERENCE_MODELS)
        raise UserError(
            f"no bundled architecture for {model!r}; use one of {known}, a family name "
            f"(glm4, llama3, qwen2), or --params N"
        )
    return REFERENCE_MODELS[key]


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

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer_states + self.activations + self.overhead

    def rows(self) -> list[tuple[str, float, str]]:
        return [
            ("parameters", self.weights, _WEIGHT_NOTE[self.method]),
            (
                "gradients",
                self.gradients,
                "bf16 per weight" if self.method == "full" else "fp32, adapter only (LoRA on q and v)",
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
        lines += ["-" * 72, f"{'total':<20}{self.total / GIB:>8.2f}"]
        return "\n".join(lines)


_WEIGHT_NOTE = {
    "full": "bf16",
    "lora": "bf16 base + fp32 adapter",
    "qlora": "NF4 + double-quant linears, bf16 embeddings/head, fp32 adapter",
}
_OPTIMIZER_NOTE = {"adamw": "AdamW: two fp32 moments", "paged_adamw_8bit": "8-bit AdamW: two 1-byte moments"}
# NF4 stores 4 bits per weight plus one absmax per 64-weight block; double quantization stores those absmax
# values in 8 bits with one fp32 constant per 256 blocks (QLoRA paper, section 3).
NF4_BYTES_PER_WEIGHT = 0.5 + 1 / 64 + 4 / (64 * 256)
OVERHEAD_BYTES = 0.75 * GIB  # CUDA context, cuBLAS workspace, allocator slack


def estimate_memory(
    architecture: Architecture,
    method: str,
    *,
    seq_len: int = 1024,
    batch: int = 1,
    lora_r: int = 8,
    gradient_checkpointing: bool = False,
    optimizer: str | None = None,
) -> MemoryEstimate:
    if method not in ("full", "lora", "qlora"):
        raise UserError(f"unknown method {method!r}; choose full, lora or qlora")
    if seq_len < 1 or batch < 1:
        raise UserError("--seq-len and --batch must be positive")
    a = architecture
    optimizer = optimizer or ("adamw" if method == "full" else "paged_adamw_8bit")
    total = a.parameters()
    trainable = total if method == "full" else a.lora_parameters(lora_r)
    if method == "full":
        weights = 2.0 * total
        gradients = 2.0 * total
        master = 4.0 * total
    else:
        base = (
            2.0 * total
            if method == "lora"
            else (NF4_BYTES_PER_WEIGHT * a.linear_parameters() + 2.0 * a.other_parameters())
        )
        weights = base + 4.0 * trainable  # peft keeps adapter weights in fp32
        gradients = 4.0 * trainable
        master = 0.0
    moments = (8.0 if optimizer == "adamw" else 2.0) * trainable
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
        activation_bytes(a, method, seq_len * batch, gradient_checkpointing),
        OVERHEAD_BYTES,
    )


def activation_bytes(a: Architecture, method: str, tokens: int, gradient_checkpointing: bool) -> float:
    """Bytes autograd keeps for the backward pass, with fused (SDPA/flash) attention so no seq² term.

    Per token and layer: both RMSNorms keep their bf16 input and output and an fp32 upcast (2·(2h+2h+4h)
    = 16h bytes), attention keeps q, k, v (2h + 4·kv_dim) and its output (2h), the gated MLP keeps gate, up,
    SiLU output and their product (8·intermediate). LoRA's dropout copies the q and v inputs (+4h).
    Checkpointing keeps only each layer's input (2h) and recomputes one layer at a time. Logits: bf16 + fp32
    copy + fp32 gradient, 10 bytes per vocabulary entry."""
    per_layer = 20 * a.hidden + 4 * a.kv_dim + 8 * a.intermediate
    if method != "full":
        per_layer += 4 * a.hidden
    if gradient_checkpointing:
        body = tokens * (a.layers * 2 * a.hidden + per_layer)
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
