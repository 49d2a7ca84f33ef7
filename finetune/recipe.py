"""The training recipe, top to bottom: config → tokenizer and base model → LoRA → data → train → save.

It runs unchanged on one CPU, one GPU (`--device cuda:N` picks which), or several processes under `torchrun` /
`accelerate launch` (transformers' Trainer picks the distributed setup from the environment; only rank 0 writes
the adapter, hotel_agent.json and loss.png). Weights load straight onto the training device. Checkpoints (adapter,
optimizer, scheduler, RNG, data position) go to `<out>/checkpoints/` every `save_steps`; `resume=True` continues
from the newest one after a crash."""

from __future__ import annotations

import gc
import json
import os
import time
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, Trainer, TrainingArguments
from transformers.trainer_callback import ProgressCallback, TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from agent.core.atomic_storage import write_atomically
from agent.core.datafiles import data_path
from agent.core.errors import UserError
from backends.llm.encoding import pad_token_id
from backends.llm.precision import choose_precision, cuda_bf16_supported
from backends.llm.remote_code import check_remote_code, is_remote_code_refusal, read_model_config, remote_code_message
from backends.llm.versions import require_transformers
from finetune.adapter_dtype import store_adapter_as
from finetune.config import DEFAULT_DEV, DEFAULT_TRAIN, TrainConfig, resolve, save_config
from finetune.data import DialogueDataset, PaddingCollator, encode_examples, load_examples
from finetune.devices import environment_without_pin, pin_cuda_device
from finetune.metadata import DataFingerprint, build_adapter_info, peak_rss_gib, write_adapter_info
from finetune.mixing import build_training_set, parse_oversample, parse_share
from finetune.plots import plot_loss
from finetune.warm_start import check_warm_start, warm_start
from prompts import RenderSettings, template_hash
from prompts.families import get_family

CHECKPOINTS = "checkpoints"


def train(config: TrainConfig, *, resume: bool = False) -> Path:
    # 1. Config: fill machine-, family- and layout-dependent defaults, print and save what will run.
    require_transformers()
    restore_env = pin_cuda_device(config.device)  # before this process first touches CUDA
    cuda = use_cuda(config.device)
    family = get_family(config.family)
    out = Path(config.out)
    checkpoints = out / CHECKPOINTS
    last_checkpoint = last_complete_checkpoint(checkpoints)
    if resume and last_checkpoint is None:
        raise UserError(f"--resume: no checkpoint in {checkpoints}; run without --resume to start")
    if not resume and last_checkpoint is not None:
        raise UserError(f"{out} already has checkpoints; pass --resume to continue or choose a new --out")
    if not resume and (out / "adapter_config.json").is_file():
        raise UserError(f"{out} already holds an adapter; choose a new --out (a run never overwrites one)")
    # Find the data before the minutes spent loading a model, so a missing file fails at once.
    train_path = Path(config.train) if config.train else data_path(DEFAULT_TRAIN)
    dev_path = None if config.dev == "" else (Path(config.dev) if config.dev else data_path(DEFAULT_DEV))
    mix = [parse_share(entry) for entry in config.mix]
    for path in (train_path, dev_path, *(Path(share.path) for share in mix)):
        if path is not None and not path.is_file():
            raise UserError(f"{path}: no such dialogue file")
    if config.init_adapter and not resume:
        check_warm_start(config.init_adapter, family=config.family, rank=config.lora_r, alpha=config.lora_alpha)
    # config.json is read without running any code: it tells the layout (LoRA targets) and whether the
    # checkpoint needs --trust-remote-code, before minutes go into loading weights.
    model_config = read_model_config(config.model, config.gguf_file)
    check_remote_code(config.model, model_config, config.trust_remote_code, family)
    bf16_supported = cuda and cuda_bf16_supported("cuda")
    note = choose_precision(config.precision, cuda=cuda, bf16_supported=bf16_supported).note
    config = resolve(
        config, cuda=cuda, bf16_supported=bf16_supported, model_type=(model_config or {}).get("model_type")
    )
    main_process = int(os.environ.get("RANK", "0")) == 0
    if main_process:
        out.mkdir(parents=True, exist_ok=True)
        save_config(config, out / "train_config.yaml")
        print(
            f"# finetune run — resolved config (saved to {out / 'train_config.yaml'})\n{config.to_yaml()}", flush=True
        )
        if note:
            print(f"note: {note}", flush=True)

    # 2. Tokenizer and base model (4-bit NF4 for QLoRA), then the LoRA adapter on the family's projections.
    tokenizer = load_tokenizer(config)
    model = load_base_model(config, cuda=cuda)
    model = add_lora(model, config)
    started_from = None
    # What the warm start loaded is kept beside the checkpoints, so a resumed run's metadata still names it.
    started_from_file = out / "init_adapter.json"
    if config.init_adapter and not resume:  # a resumed run's checkpoint already holds the weights
        started_from = warm_start(
            model, config.init_adapter, family=config.family, rank=config.lora_r, alpha=config.lora_alpha
        )
        if main_process:
            write_atomically(started_from_file, json.dumps(started_from, ensure_ascii=False, indent=2) + "\n")
            print(
                f"started from {started_from['path']}: {started_from['tensors']} tensors of {started_from['modules']}"
            )
    elif resume and started_from_file.is_file():
        started_from = json.loads(started_from_file.read_text(encoding="utf-8"))
    if main_process:
        trainable, total = model.get_nb_trainable_parameters()
        print(f"trainable parameters: {trainable:,} of {total:,} ({100 * trainable / total:.3f}%)", flush=True)

    # 3. Data: one sequence per dialogue, labels on search/assistant turns only, rendered by the serving template.
    settings = RenderSettings(record_style=str(config.record_style))  # resolve() has filled it in
    training = build_training_set(
        train_path,
        train_ratio=config.train_ratio,
        mix=mix,
        oversample=[parse_oversample(entry) for entry in config.oversample],
        clean_data=config.clean,
        limit=config.limit_dialogues,
        seed=config.seed,
    )
    train_set = encode_examples(
        tokenizer, config.family, training.dialogues, settings=settings, max_seq_len=config.max_seq_len
    )
    dev_set = (
        load_examples(
            tokenizer,
            config.family,
            dev_path,
            settings=settings,
            max_seq_len=config.max_seq_len,
            limit=config.dev_limit,
        )
        if dev_path
        else None
    )
    if not train_set.examples:
        raise UserError(f"{train_path}: no dialogue fits max_seq_len={config.max_seq_len} with model output in it")
    if main_process:
        print(training.describe(), flush=True)
        print(
            f"train: {len(train_set.examples)} dialogues, {train_set.tokens:,} tokens "
            f"({train_set.trained_tokens:,} with loss); {train_set.shortened} shortened, "
            f"{train_set.dropped} dropped to fit {config.max_seq_len} tokens",
            flush=True,
        )

    # 4. Train.
    pad_id = pad_token_id(tokenizer, family)
    trainer = Trainer(
        model=model,
        args=training_arguments(config, checkpoints, cuda=cuda, has_dev=dev_set is not None),
        train_dataset=DialogueDataset(train_set.examples),
        eval_dataset=DialogueDataset(dev_set.examples) if dev_set else None,
        data_collator=PaddingCollator(pad_id),
    )
    trainer.remove_callback(ProgressCallback)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    progress = TokenRateProgress(
        tokens_per_step=train_set.tokens
        / len(train_set.examples)
        * config.batch_size
        * config.gradient_accumulation_steps
        * world
    )
    trainer.add_callback(progress)
    time_limit = TimeLimit(config.time_limit_minutes)
    trainer.add_callback(time_limit)
    result = trainer.train(resume_from_checkpoint=str(last_checkpoint) if resume else None)
    peak_gib = torch.cuda.max_memory_allocated() / 2**30 if cuda else None
    dev_loss = trainer.evaluate()["eval_loss"] if dev_set else None

    # 5. Save the adapter, what it was trained on (hotel_agent.json) and the loss curve.
    trainer.save_model(str(out))
    if not trainer.is_world_process_zero():
        return out
    if config.adapter_dtype:
        store_adapter_as(out, config.adapter_dtype)
    train_losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    info = build_adapter_info(
        config=config.to_dict(),
        template_hash=template_hash(family, settings),
        record_style=settings.record_style,
        train=DataFingerprint.of(train_path, len(train_set.examples)),
        dev=DataFingerprint.of(dev_path, len(dev_set.examples)) if dev_set and dev_path else None,
        final_train_loss=train_losses[-1] if train_losses else result.training_loss,
        final_dev_loss=dev_loss,
        steps=trainer.state.global_step,
        train_tokens=train_set.tokens,
    )
    info.extra.update(
        train_seconds=result.metrics.get("train_runtime"),
        tokens_per_second=progress.rate,
        train_tokens_seen=trainer.state.num_input_tokens_seen,
        peak_gpu_memory_gib=peak_gib,
        peak_rss_gib=peak_rss_gib(),
        world_size=trainer.args.world_size,
        resumed_from=last_checkpoint.name if resume and last_checkpoint else None,
        stopped_by_time_limit=time_limit.stopped_at_step is not None,
        training_set=training.to_json(),
        init_adapter=started_from,
        adapter_dtype=config.adapter_dtype,
    )
    write_adapter_info(out, info)
    (out / "log_history.json").write_text(json.dumps(trainer.state.log_history, indent=1), encoding="utf-8")
    try:
        plot_loss(trainer.state.log_history, out / "loss.png", title=f"{config.method} {config.family} {config.model}")
    except ImportError:  # never lose a finished run to a missing plotting library
        print("loss.png skipped: matplotlib is not installed (log_history.json has the same numbers)", flush=True)
    if time_limit.stopped_at_step is not None:
        print(
            f"time limit of {config.time_limit_minutes:g} min reached: stopped after step "
            f"{time_limit.stopped_at_step} of {trainer.state.max_steps}",
            flush=True,
        )
    print(
        f"final train loss {info.extra['final_train_loss']:.4f}"
        + (f", dev loss {dev_loss:.4f}" if dev_loss is not None else "")
        + f"; {progress.rate:,.0f} tokens/s"
        + (f", peak GPU memory {peak_gib:.2f} GiB" if peak_gib else "")
        + f"; adapter in {out}",
        flush=True,
    )

    # 6. Optional: replay dev samples through the evaluation harness with the new adapter, as served, in a
    # child process (finetune.evaluation says why); free this process's copy first so both never coexist.
    if config.eval_limit and dev_path:
        from finetune.evaluation import evaluate_adapter

        del trainer, model
        gc.collect()
        if cuda:
            torch.cuda.empty_cache()
        evaluate_adapter(
            config, out, dev_path, max_new_tokens=config.eval_max_new_tokens, env=environment_without_pin(restore_env)
        )
    return out


def use_cuda(device: str | None) -> bool:
    """Train on CUDA unless asked for the CPU or none is available; asking for CUDA without one is an error."""
    if device is not None and device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {device}: torch sees no CUDA device (torch {torch.__version__})")
    return torch.cuda.is_available() and not (device or "").startswith("cpu")


def last_complete_checkpoint(folder: Path) -> Path | None:
    """The newest checkpoint that was written to the end. The Trainer writes trainer_state.json last and not
    atomically, so a process killed while saving leaves a newer directory without it: skip that one."""
    if not folder.is_dir():
        return None
    steps = []
    for path in folder.glob(f"{PREFIX_CHECKPOINT_DIR}-*"):
        suffix = path.name.rsplit("-", 1)[-1]
        if suffix.isdigit() and (path / "trainer_state.json").is_file():
            steps.append((int(suffix), path))
    return max(steps)[1] if steps else None


def load_tokenizer(config: TrainConfig) -> Any:
    try:
        return AutoTokenizer.from_pretrained(
            config.model, gguf_file=config.gguf_file, trust_remote_code=config.trust_remote_code
        )
    except (OSError, ValueError) as e:
        if is_remote_code_refusal(e):
            raise UserError(remote_code_message(config.model, None, get_family(config.family))) from None
        if isinstance(e, ValueError):
            raise
        raise UserError(f"cannot load a tokenizer from {config.model!r}: {str(e).splitlines()[0]}") from None


def load_base_model(config: TrainConfig, *, cuda: bool) -> Any:
    precision = choose_precision(config.precision, cuda=cuda, bf16_supported=cuda and cuda_bf16_supported("cuda"))
    dtype = precision.torch_dtype
    # Straight onto this process's device (in a launch of several, its own GPU); under --device cuda:N that GPU is
    # the only one visible, so cuda:0 (finetune.devices). Never the whole model in host RAM first.
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    kwargs: dict[str, Any] = {
        "dtype": dtype,
        "device_map": {"": f"cuda:{local_rank}" if cuda else "cpu"},
        "trust_remote_code": config.trust_remote_code,  # a bool, never None: None would let transformers prompt
    }
    if config.gguf_file:
        kwargs["gguf_file"] = config.gguf_file
    if config.method == "qlora":
        # QLoRA (Dettmers et al. 2023): frozen base in 4-bit NormalFloat, its block constants quantized again
        # (double quantization), matmuls computed in `dtype`.
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type=config.quant_type,
            bnb_4bit_use_double_quant=config.double_quant,
            bnb_4bit_compute_dtype=dtype,
        )
    source = config.model
    if config.method == "qlora" and config.gguf_file:
        # transformers will not quantize while reading a GGUF: quantize the same de-quantized copy the
        # qlora backends serve from, so training and inference see identical 4-bit weights.
        from backends.llm.loading import dequantized_copy

        source = dequantized_copy(config.model, kwargs.pop("gguf_file"))
    try:
        model: Any = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except OSError as e:
        raise UserError(f"cannot load model {config.model!r}: {str(e).splitlines()[0]}") from None
    except ValueError as e:
        if is_remote_code_refusal(e):
            raise UserError(remote_code_message(config.model, None, get_family(config.family))) from None
        raise
    if config.gguf_file and config.method == "lora":
        # transformers dequantizes GGUF weights into ordinary `dtype` tensors on load but keeps a GGUF marker
        # that makes the Trainer refuse the model; nothing quantized is left, so drop the marker.
        model.hf_quantizer = None
        model.is_quantized = False
    model.config.use_cache = False  # the KV cache is for generation; training only wastes memory on it
    return model


def add_lora(model: Any, config: TrainConfig) -> Any:
    if config.method == "qlora":
        # fp32 norms and output head, input grads for checkpointing: what 4-bit training needs to be stable
        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=config.gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    elif config.gradient_checkpointing:
        if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5 renamed it
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()  # the frozen embeddings would otherwise cut the graph
    check_target_modules(model, tuple(config.target_modules or ()), config.model)
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules or ()),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def check_target_modules(model: Any, targets: tuple[str, ...], model_name: str) -> None:
    """UserError naming every LoRA target that matches no module of `model` (PEFT itself only complains when
    none matches) and the linear layers it does have."""
    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [m for m in targets if m not in present]
    if missing:
        linear = sorted(
            {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)} - {"lm_head"}
        )
        raise UserError(f"target_modules {missing} are not in {model_name}; its linear layers are {', '.join(linear)}")


def training_arguments(config: TrainConfig, checkpoints: Path, *, cuda: bool, has_dev: bool) -> Any:
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    return TrainingArguments(
        output_dir=str(checkpoints),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        num_train_epochs=config.num_epochs,
        max_steps=config.max_steps,
        learning_rate=float(config.learning_rate or 0.0),  # resolve() has filled it in
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio,  # a float < 1 is a ratio of the total steps in transformers 5
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        optim=str(config.optimizer),  # resolve() has filled it in
        bf16=config.precision == "bf16",
        fp16=config.precision == "fp16",  # mixed precision with a gradient scaler (fp16 gradients underflow)
        use_cpu=not cuda,
        ddp_backend="gloo" if distributed and not cuda else None,
        ddp_find_unused_parameters=False if distributed else None,
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
        logging_steps=config.logging_steps,
        logging_first_step=True,
        eval_strategy="steps" if has_dev else "no",
        eval_steps=config.save_steps if has_dev else None,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        include_num_input_tokens_seen="non_padding",
        remove_unused_columns=False,
        dataloader_num_workers=0,
        report_to="none",
        seed=config.seed,
        disable_tqdm=False,
    )


class TimeLimit(TrainerCallback):
    """Ends training at the first optimizer step after `minutes` of it; the Trainer then finishes normally,
    so the adapter and its metadata are saved as for a full run (a budgeted GPU lease, a CPU overnight run)."""

    def __init__(self, minutes: float | None):
        self.seconds = None if minutes is None else minutes * 60
        self.stopped_at_step: int | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if (
            self.seconds is not None
            and time.perf_counter() - self._start >= self.seconds
            and state.global_step < state.max_steps
        ):
            control.should_training_stop = True
            self.stopped_at_step = state.global_step


def token_eta(steps_left: int, tokens_per_step: float, rate: float) -> float | None:
    """Seconds left at `rate` tokens/s. group_by_length puts the longest batches first, so the bar's own
    steps-based ETA overstates the early part of a run; the mean tokens of a step does not."""
    if rate <= 0 or tokens_per_step <= 0:
        return None
    return max(steps_left, 0) * tokens_per_step / rate


class TokenRateProgress(ProgressCallback):
    """The Trainer's progress bar, with input tokens per second (padding excluded), a token-based ETA and the
    last loss."""

    def __init__(self, tokens_per_step: float = 0.0):
        super().__init__()
        self.tokens_per_step = tokens_per_step  # mean over the epoch: the data's tokens / optimizer steps

    def on_train_begin(self, args, state, control, **kwargs):
        super().on_train_begin(args, state, control, **kwargs)
        self._start = (time.perf_counter(), state.num_input_tokens_seen)
        self._loss: float | None = None
        self.rate = 0.0  # input tokens per second of this session (padding excluded)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self._loss = float(logs["loss"])
        super().on_log(args, state, control, logs=logs, **kwargs)

    def on_step_end(self, args, state, control, **kwargs):
        super().on_step_end(args, state, control, **kwargs)
        if state.is_world_process_zero and self.training_bar is not None:
            seconds = max(time.perf_counter() - self._start[0], 1e-9)
            self.rate = (state.num_input_tokens_seen - self._start[1]) / seconds
            postfix = {"tokens/s": f"{self.rate:,.0f}"}
            eta = token_eta(state.max_steps - state.global_step, self.tokens_per_step, self.rate)
            if eta is not None:
                postfix["eta"] = self.training_bar.format_interval(eta)
            if self._loss is not None:
                postfix["loss"] = f"{self._loss:.3f}"
            self.training_bar.set_postfix(postfix, refresh=False)
