"""Every knob of a training run, in one flat dataclass with defaults that work.

Values come from three layers, later ones winning: the defaults below (the course reference's, memory-safe for a
9B model on one 24 GB GPU), a config file (YAML or TOML, keys = field names; `finetune/configs/` ships one per
reference run), and the command-line options. `resolve()` fills what depends on the family, the checkpoint's
layout or the machine (learning rate, LoRA targets, optimizer, precision), so the printed and saved config is the
one that ran."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from agent.core.errors import UserError
from backends.llm.precision import PRECISIONS, choose_precision
from finetune.mixing import parse_oversample, parse_share
from prompts.families import FAMILIES as FAMILY_TABLE

FAMILIES = tuple(FAMILY_TABLE)
METHODS = ("lora", "qlora")
DEFAULT_TRAIN = "hotel/train.glm4.jsonl"  # in the data dir
DEFAULT_DEV = "hotel/dev.glm4.jsonl"
BUNDLED_CONFIGS = Path(__file__).parent / "configs"  # one YAML per reference run: `--config glm4-9b-qlora`
# The course reference trained GLM-4 with a higher learning rate than the other two families.
FAMILY_LEARNING_RATE = {"glm4": 5e-4}
DEFAULT_LEARNING_RATE = 2e-4


@dataclass(frozen=True)
class TrainConfig:
    family: str
    model: str
    out: str
    method: str = "lora"
    gguf_file: str | None = None
    trust_remote_code: bool = False  # run modeling code shipped with the checkpoint (glm-4-9b-chat needs it)
    train: str | None = None  # None: hotel/train.glm4.jsonl in the data dir
    dev: str | None = None  # None: hotel/dev.glm4.jsonl in the data dir; "" disables dev loss
    record_style: str | None = None  # how the prompt writes arguments/records; None: the family's default
    # the training set (finetune.mixing): more files in ratios, repeated turn kinds, cleaning
    train_ratio: float = 1.0  # share of `train` used: 0.5 a seeded half, 2 every dialogue twice
    mix: tuple[str, ...] = ()  # more GLM-4 dialogue files, each "PATH=RATIO"
    oversample: tuple[str, ...] = ()  # "KIND=FACTOR": dialogues with a model turn of KIND (finetune.turn_kinds)
    clean: bool = False  # apply data-report's bound fixes and drop duplicates before training
    # LoRA (the reference's values); target_modules None = the family table's targets for the checkpoint's layout
    lora_r: int = 8
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    target_modules: tuple[str, ...] | None = None
    # QLoRA: 4-bit NF4 with double quantization; matmuls computed in `precision`
    quant_type: str = "nf4"
    double_quant: bool = True
    # optimisation
    learning_rate: float | None = None  # None: 5e-4 for glm4, else 2e-4
    num_epochs: float = 2.0
    max_steps: int = -1  # > 0 overrides num_epochs
    time_limit_minutes: float | None = None  # stop (and save) at the first step after this much training time
    warmup_ratio: float = 0.1
    lr_scheduler: str = "linear"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    # Peak memory is set by batch_size × max_seq_len (one long dialogue at a time here, as in the course: batch 1
    # × accumulation 4) and by gradient_checkpointing (activations of one layer instead of all).
    batch_size: int = 1
    gradient_accumulation_steps: int = 4
    optimizer: str | None = None  # None: paged_adamw_8bit on CUDA, adamw_torch on CPU
    precision: str = "auto"  # auto: bf16 where the GPU has it, fp16 (loss-scaled) where not, fp32 on CPU
    gradient_checkpointing: bool = True
    # Batches of similar lengths (transformers' LengthGroupedSampler, longest batch first): less padding, but only
    # when batch_size > 1; with one dialogue per batch there is no padding and the order stays random.
    group_by_length: bool = False
    max_seq_len: int = 3072  # the course's 2048 prompt + 1024 answer; longer dialogues are cut at a turn boundary
    limit_dialogues: int | None = None
    dev_limit: int | None = None  # dev dialogues for the dev loss (None: all)
    seed: int = 42
    # bookkeeping
    logging_steps: int = 10
    save_steps: int = 100
    save_total_limit: int = 2
    eval_limit: int | None = None  # dev samples replayed through evalharness at the end (None: skip)
    eval_max_new_tokens: int | None = None  # generation limit for that run (None: the backend's default)
    device: str | None = None  # None: cuda when available
    init_adapter: str | None = None  # start from this adapter's weights (same family, rank, alpha)
    adapter_dtype: str | None = None  # "bf16": the saved adapter's weights in bfloat16; None: as trained

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in TUPLE_FIELDS:  # YAML and JSON have lists, not tuples
            if data[key] is not None:
                data[key] = list(data[key])
        return data

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)


FIELD_TYPES = {f.name: f for f in fields(TrainConfig)}
TUPLE_FIELDS = tuple(f.name for f in fields(TrainConfig) if str(f.type).startswith("tuple"))
ADAPTER_DTYPES = ("bf16",)


def default_of(name: str) -> Any:
    """A setting's default, as TrainConfig defines it (the one copy the CLI help reads too)."""
    return FIELD_TYPES[name].default


def find_config_file(name: str | Path) -> Path:
    """`name` itself when it is a file, else a bundled config of that name (`glm4-9b-qlora`, with or without
    `.yaml`), else a UserError listing the bundled ones."""
    path = Path(name)
    if path.is_file():
        return path
    bundled = BUNDLED_CONFIGS / (path.name if path.suffix in (".yaml", ".yml") else f"{path.name}.yaml")
    if path.parent == Path(".") and bundled.is_file():
        return bundled
    names = ", ".join(sorted(p.stem for p in BUNDLED_CONFIGS.glob("*.yaml")))
    raise UserError(f"{name}: no such config file (bundled configs: {names})")


# Settings renamed since adapters were first trained: a saved train_config.yaml stays a valid --config.
LEGACY_SETTINGS = {"bf16": lambda value: {"precision": "bf16" if value else "fp32"}}


def load_config_file(path: str | Path) -> dict[str, Any]:
    """The settings of a YAML (.yaml/.yml) or TOML (.toml) file; unknown keys are an error that names them."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise UserError(f"{path}: cannot read config ({e.strerror})") from None
    if path.suffix == ".toml":
        try:
            import tomllib  # Python 3.11+
        except ImportError:  # 3.10: the same parser, packaged
            try:
                import tomli as tomllib
            except ImportError:
                raise UserError(
                    f"{path}: TOML configs need Python 3.11+ or `pip install tomli`; or write the settings as YAML"
                ) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise UserError(f"{path}: not valid TOML ({e})") from None
    elif path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f":{mark.line + 1}" if mark is not None else ""
            raise UserError(f"{path}{where}: not valid YAML ({getattr(e, 'problem', e)})") from None
    else:
        raise UserError(f"{path}: config files must end in .yaml, .yml or .toml")
    if not isinstance(data, dict):
        raise UserError(f"{path}: a config file must be a mapping of setting names to values")
    for key, translate in LEGACY_SETTINGS.items():
        if key in data:
            value = data.pop(key)
            for new_key, new_value in translate(value).items():
                data.setdefault(new_key, new_value)
    unknown = sorted(set(data) - set(FIELD_TYPES))
    if unknown:
        raise UserError(f"{path}: unknown setting {unknown[0]!r}; known settings: {', '.join(FIELD_TYPES)}")
    return {key: _check_type(key, value, str(path)) for key, value in data.items()}


def build_config(file_settings: Mapping[str, Any], cli_settings: Mapping[str, Any]) -> TrainConfig:
    """Defaults < config file < command line (options left at None on the command line do not override)."""
    merged = dict(file_settings)
    merged.update({k: v for k, v in cli_settings.items() if v is not None})
    for required in ("family", "model", "out"):
        if merged.get(required) in (None, ""):
            raise UserError(f"missing setting {required!r}: pass --{required} or put it in the config file")
    if merged["family"] not in FAMILIES:
        raise UserError(f"unknown family {merged['family']!r}; choose one of {', '.join(FAMILIES)}")
    if merged.get("method", "lora") not in METHODS:
        raise UserError(f"unknown method {merged['method']!r}; choose one of {', '.join(METHODS)}")
    if merged.get("precision", "auto") not in PRECISIONS:
        raise UserError(f"unknown precision {merged['precision']!r}; choose one of {', '.join(PRECISIONS)}")
    for name in ("batch_size", "gradient_accumulation_steps", "max_seq_len", "lora_r"):
        if name in merged and merged[name] < 1:
            raise UserError(f"setting {name!r} must be at least 1, got {merged[name]}")
    limit = merged.get("time_limit_minutes")
    if limit is not None and limit <= 0:
        raise UserError(f"--time-limit must be a positive number of minutes, got {limit:g}")
    for key in TUPLE_FIELDS:
        if merged.get(key) is not None:
            merged[key] = tuple(merged[key])
    _check_training_set(merged)
    return TrainConfig(**merged)


def _check_training_set(merged: Mapping[str, Any]) -> None:
    """Fail on a malformed --mix / --oversample / ratio / adapter dtype before any model is loaded."""
    for entry in merged.get("mix") or ():
        parse_share(entry)
    for entry in merged.get("oversample") or ():
        parse_oversample(entry)
    ratio = merged.get("train_ratio", 1.0)
    if ratio is not None and ratio <= 0:
        raise UserError(f"train_ratio must be a positive number, got {ratio:g}")
    dtype = merged.get("adapter_dtype")
    if dtype is not None and dtype not in ADAPTER_DTYPES:
        raise UserError(f"adapter_dtype must be one of {', '.join(ADAPTER_DTYPES)}, got {dtype!r}")


def resolve(config: TrainConfig, *, cuda: bool, bf16_supported: bool, model_type: str | None = None) -> TrainConfig:
    """Fill the settings whose default depends on the family, the checkpoint's layout (its config.json
    `model_type`: glm-4-9b-chat and glm-4-9b-chat-hf name their projections differently) or the machine."""
    changes: dict[str, Any] = {}
    family = FAMILY_TABLE[config.family]
    if config.target_modules is None:
        changes["target_modules"] = family.layout_for(model_type).lora_target_modules
    if config.record_style is None:
        changes["record_style"] = family.record_style
    if config.learning_rate is None:
        changes["learning_rate"] = FAMILY_LEARNING_RATE.get(config.family, DEFAULT_LEARNING_RATE)
    if config.optimizer is None:
        # paged 8-bit AdamW keeps optimizer states small and pages them out under memory spikes (CUDA only)
        changes["optimizer"] = "paged_adamw_8bit" if cuda else "adamw_torch"
    changes["precision"] = choose_precision(config.precision, cuda=cuda, bf16_supported=bf16_supported).name
    if config.device is None:
        changes["device"] = "cuda" if cuda else "cpu"
    return dataclasses.replace(config, **changes)


def save_config(config: TrainConfig, path: Path) -> None:
    path.write_text(config.to_yaml(), encoding="utf-8")


def _check_type(key: str, value: Any, where: str) -> Any:
    """Catch `lora_r: "8"`-style mistakes at load time, with the file and key, not deep inside training."""
    annotation = str(FIELD_TYPES[key].type)
    if value is None:
        if "None" not in annotation:
            raise UserError(f"{where}: setting {key!r} cannot be empty")
        return None
    if annotation.startswith("tuple"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UserError(f"{where}: setting {key!r} must be a list of strings, got {json.dumps(value)}")
        return tuple(value)
    expected = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}
    base = annotation.split(" |")[0]
    types = expected.get(base)
    if types and (not isinstance(value, types) or (base != "bool" and isinstance(value, bool))):
        raise UserError(f"{where}: setting {key!r} must be {base}, got {json.dumps(value, ensure_ascii=False)}")
    return float(value) if base == "float" else value


__all__ = [
    "TrainConfig",
    "FAMILIES",
    "METHODS",
    "default_of",
    "find_config_file",
    "load_config_file",
    "build_config",
    "resolve",
    "save_config",
]
