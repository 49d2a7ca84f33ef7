"""Resolve what to load (base model, GGUF file, adapter, device) and load it: in the adapter's training precision
(bf16 / fp16 on CUDA, fp32 on CPU; see `backends.llm.precision`), or 4-bit NF4 with double quantization for QLoRA
(bitsandbytes, which also runs on CPU), plus a PEFT adapter. Weights go straight onto the device (`device_map`),
never through a full copy in host RAM first.

Resolution is pure and cheap (`resolve`): every user mistake — a missing adapter, a wrong family, a template
that changed since training — is reported in one line before anything heavy is imported."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.core.errors import UserError
from backends.llm import smollm2
from backends.llm.adapter_info import AdapterInfo, read_adapter_info
from backends.llm.precision import TORCH_DTYPE_NAMES, choose_precision, cuda_bf16_supported
from backends.llm.quiet_logs import quiet_bitsandbytes
from backends.llm.remote_code import check_remote_code, is_remote_code_refusal, read_model_config, remote_code_message
from backends.llm.versions import require_transformers
from prompts import RenderSettings, default_settings, template_hash
from prompts.families import Family, get_family

METHODS = ("prompt", "lora", "qlora")
# Adapters a user trained into ./adapters/<backend> (finetune's documented --out) are found there first;
# the adapters the project ships live inside the installed package, so they are found from any directory.
USER_ADAPTER_ROOT = Path("adapters")
SHIPPED_ADAPTER_ROOT = Path(__file__).resolve().parent / "adapters"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


@dataclass(frozen=True)
class LoadSpec:
    backend: str  # e.g. "lora-qwen2"
    family: Family
    method: str  # one of METHODS
    model: str  # hub id or local directory
    gguf_file: str | None
    adapter: Path | None  # None for prompt-only
    adapter_info: AdapterInfo | None
    settings: RenderSettings
    device: str | None  # None: cuda when available, else cpu (decided at load time)
    trust_remote_code: bool = False  # run modeling code shipped with the checkpoint (glm-4-9b-chat)


def resolve(
    family: str | Family,
    method: str,
    *,
    model: str | None = None,
    gguf_file: str | None = None,
    adapter: str | Path | None = None,
    device: str | None = None,
    settings: RenderSettings | None = None,
    trust_remote_code: bool = False,
) -> LoadSpec:
    family = get_family(family)
    if method not in METHODS:
        raise UserError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    backend = f"{method}-{family.name}"
    adapter_path: Path | None = None
    info: AdapterInfo | None = None
    if method != "prompt":
        adapter_path = Path(adapter) if adapter is not None else default_adapter(backend)
        if not is_adapter_dir(adapter_path):
            raise UserError(
                f"no LoRA adapter in {adapter_path} (adapter_config.json missing); train one with "
                f"`finetune` or pass --adapter DIR"
            )
        info = read_adapter_info(adapter_path)
        settings = settings or _check_adapter(info, family, adapter_path)
    settings = settings or default_settings(family)
    if model is None and family.name == "smollm2":
        directory, fetched_file = smollm2.require()
        model, gguf_file = str(directory), gguf_file or fetched_file
    elif model is None:  # the base the adapter was trained on, else the family's hub id
        model = info.base_model if info is not None else family.default_model
    if gguf_file is not None and not (Path(model) / gguf_file).is_file():
        raise UserError(f"GGUF file {gguf_file} not found in {model}; pass --model DIR that contains it")
    return LoadSpec(backend, family, method, model, gguf_file, adapter_path, info, settings, device, trust_remote_code)


def default_adapter(backend: str) -> Path:
    """The adapter `--backend NAME` serves without --adapter: ./adapters/NAME when the user trained one there,
    else the shipped one; UserError naming both places (and the shipped names) when neither has it."""
    for root in (USER_ADAPTER_ROOT, SHIPPED_ADAPTER_ROOT):
        if is_adapter_dir(root / backend):
            return root / backend
    shipped = ", ".join(shipped_adapters()) or "none"
    raise UserError(
        f"no LoRA adapter for {backend} in {USER_ADAPTER_ROOT / backend} or among the shipped adapters "
        f"({shipped}); train one with `finetune` or pass --adapter DIR"
    )


def shipped_adapters() -> list[str]:
    """Names of the backends whose adapter ships with the package (e.g. lora-smollm2)."""
    if not SHIPPED_ADAPTER_ROOT.is_dir():
        return []
    return sorted(p.name for p in SHIPPED_ADAPTER_ROOT.iterdir() if is_adapter_dir(p))


def is_adapter_dir(path: Path) -> bool:
    return (path / "adapter_config.json").is_file()


def _check_adapter(info: AdapterInfo | None, family: Family, adapter: Path) -> RenderSettings | None:
    if info is None:
        return None  # an adapter trained elsewhere: served with the family's default layout
    if info.family != family.name:
        raise UserError(
            f"adapter {adapter} was trained for family {info.family!r}, not {family.name!r}; "
            f"use --backend {info.method}-{info.family} or another --adapter"
        )
    settings = RenderSettings(record_style=info.record_style)
    expected = template_hash(family, settings)
    if info.template_hash != expected:
        raise UserError(
            f"adapter {adapter} was trained with template hash {info.template_hash[:12]}, but "
            f"prompts/{family.template} now hashes to {expected[:12]}; retrain it or use the "
            f"hotel-agent version it was trained with"
        )
    return settings


@dataclass
class Loaded:
    model: Any  # a transformers (or peft) causal LM in eval mode
    tokenizer: Any
    device: str
    dtype: str


def load(spec: LoadSpec) -> Loaded:
    quiet_bitsandbytes()  # before transformers/peft import bitsandbytes (peft does whenever it is installed)
    require_transformers()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    require_local_or_reachable(spec)
    check_remote_code(spec.model, read_model_config(spec.model, spec.gguf_file), spec.trust_remote_code, spec.family)
    device = resolve_device(spec.device)
    trained_in = spec.adapter_info.precision if spec.adapter_info is not None else None
    precision = choose_precision(trained_in, cuda=device.startswith("cuda"), bf16_supported=cuda_bf16_supported(device))
    dtype = precision.torch_dtype
    extra: dict[str, Any] = {"gguf_file": spec.gguf_file} if spec.gguf_file else {}
    remote = {"trust_remote_code": spec.trust_remote_code}  # always a bool: None would let transformers prompt
    try:
        tokenizer = AutoTokenizer.from_pretrained(spec.model, **extra, **remote)
        if spec.method == "qlora":
            from transformers import BitsAndBytesConfig

            quantization = BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=dtype,
            )
            # transformers will not quantize while reading a GGUF: quantize a dequantized copy instead.
            source = dequantized_copy(spec.model, spec.gguf_file) if spec.gguf_file else spec.model
            model: Any = AutoModelForCausalLM.from_pretrained(
                source, quantization_config=quantization, dtype=dtype, device_map={"": device}, **remote
            )
        else:
            model = AutoModelForCausalLM.from_pretrained(
                spec.model, dtype=dtype, device_map={"": device}, **extra, **remote
            )
    except (OSError, ValueError) as e:
        if is_remote_code_refusal(e):
            raise UserError(remote_code_message(spec.model, None, spec.family)) from None
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise UserError(
            f"cannot load model {spec.model!r} ({reason}); pass --model with a local directory "
            f"of {spec.family.default_model} or another {spec.family.name} model"
        ) from None
    if spec.adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(spec.adapter))
    model.eval()
    return Loaded(
        model, tokenizer, device, TORCH_DTYPE_NAMES[precision.name] + ("-nf4" if spec.method == "qlora" else "")
    )


def resolve_device(requested: str | None) -> str:
    """`--device` as an explicit torch device: None → "cuda:0" (the current CUDA device) when CUDA is available,
    else "cpu"; "cuda" → "cuda:<current>"; "cuda:1" stays "cuda:1" (checked against the devices torch sees)."""
    import torch

    if requested is None:
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(requested)
    except (RuntimeError, ValueError):
        raise UserError(f"--device {requested!r} is not a torch device (e.g. cpu, cuda, cuda:1)") from None
    if device.type != "cuda":
        return str(device)
    if not torch.cuda.is_available():
        raise UserError(f"--device {requested}: torch sees no CUDA device (torch {torch.__version__})")
    index = device.index if device.index is not None else torch.cuda.current_device()
    if index >= torch.cuda.device_count():
        raise UserError(f"--device {requested}: torch sees {torch.cuda.device_count()} CUDA device(s)")
    return f"cuda:{index}"


def require_local_or_reachable(spec: LoadSpec, timeout: float = 5.0) -> None:
    """Fail in seconds, not after a minute of retries, when a hub id is neither cached nor downloadable."""
    if Path(spec.model).exists():
        return
    if spec.model.startswith(("/", "./", "../", "~")) or "\\" in spec.model:
        raise UserError(
            f"model directory {spec.model} does not exist; pass --model with a local directory of "
            f"a {spec.family.name} model or a hub id"
        )
    import os

    from huggingface_hub import HfApi, constants, try_to_load_from_cache
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(try_to_load_from_cache(spec.model, "config.json"), str):
        return
    hint = f"pass --model with a local directory of {spec.model}" + (
        " (or run `hotel-agent models fetch smollm2` and use a smollm2 backend)"
        if spec.family.name != "smollm2"
        else ""
    )
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        raise UserError(f"model {spec.model!r} is not in the Hugging Face cache and HF_HUB_OFFLINE is set; {hint}")
    try:
        HfApi().model_info(spec.model, timeout=timeout)
    except HfHubHTTPError:
        return  # the hub answered (gated, private or unknown models answer 401/403/404): let transformers say more
    except Exception as e:  # refused, unresolvable, timed out: whatever the hub client's HTTP stack raises for it
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(
            f"model {spec.model!r} is not a local directory, not in the Hugging Face cache, and "
            f"{constants.ENDPOINT} is unreachable ({reason}); {hint}"
        ) from None


def adapter_sha256(adapter: Path) -> str | None:
    """sha256 of the adapter's weight file (what a signature must pin), or None if it has none."""
    for name in ADAPTER_WEIGHTS:
        path = adapter / name
        if path.is_file():
            from agent.core.datafiles import sha256_of

            return sha256_of(path)
    return None


def dequantized_copy(model_dir: str, gguf_file: str) -> str:
    """A transformers copy (bf16 safetensors) of a GGUF model, made once in the cache dir and reused."""
    import shutil
    import tempfile

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from agent.core.datafiles import cache_dir

    source = (Path(model_dir) / gguf_file).resolve()
    key = hashlib.sha256(f"{source}:{source.stat().st_size}".encode()).hexdigest()[:12]
    target = cache_dir() / "models" / "from-gguf" / f"{source.stem}-{key}"
    if (target / "config.json").is_file():
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        import torch

        model: Any = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=gguf_file, dtype=torch.bfloat16)
        # The weights are plain tensors once read; only the "gguf" marker blocks saving them.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        AutoTokenizer.from_pretrained(model_dir, gguf_file=gguf_file).save_pretrained(tmp)
        tmp.rename(target)  # whole or not at all: a killed conversion leaves only a temp dir
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return str(target)
