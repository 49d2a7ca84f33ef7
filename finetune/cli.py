"""`finetune`: train LoRA/QLoRA adapters, estimate their GPU memory, and inspect the training data.

torch and transformers are imported only by `finetune run`, so `estimate` and `data-report` start fast."""

from __future__ import annotations

from pathlib import Path

import click

from agent.core.cli_support import FriendlyGroup
from backends.llm.precision import PRECISIONS
from backends.llm.quiet_logs import quiet_bitsandbytes
from finetune.config import (
    DEFAULT_DEV,
    DEFAULT_LEARNING_RATE,
    DEFAULT_TRAIN,
    FAMILIES,
    FAMILY_LEARNING_RATE,
    METHODS,
    default_of,
)
from prompts.families import FAMILIES as FAMILY_TABLE


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Fine-tune GLM-4 / Llama-3 / Qwen2 / SmolLM2 for the hotel agent with LoRA or QLoRA.

    finetune/configs/ holds one config per reference run (glm4-9b-qlora, llama3.1-8b-qlora, qwen2-7b-lora,
    smollm2-135m-lora); give its name or any YAML/TOML file to --config, and check it first with --dry-run
    (the real architecture on the meta device, in seconds on a CPU) and `estimate --config`.

    \b
    Examples:
      finetune run --config smollm2-135m-lora --model ~/.cache/hotel-agent/models/smollm2 \\
          --gguf-file SmolLM2-135M-Instruct.Q4_1.gguf --out adapters/lora-smollm2
      finetune run --config llama3.1-8b-qlora --dry-run
      finetune run --config glm4-9b-qlora --model /data/glm-4-9b-chat --trust-remote-code
      finetune estimate --config qwen2-7b-lora
    """
    quiet_bitsandbytes()  # before any command imports peft (which imports bitsandbytes and logs the kernels hint)


def _default(name: str) -> str:
    """The help suffix for a TrainConfig setting: its default as TrainConfig defines it (one copy)."""
    value = default_of(name)
    if isinstance(value, bool):
        value = "on" if value else "off"
    return f"[default: {value:g}]" if isinstance(value, float) else f"[default: {value}]"


_RATES = ", ".join(f"{rate:g} for {family}" for family, rate in FAMILY_LEARNING_RATE.items())


@main.command()
@click.option("--family", type=click.Choice(FAMILIES), default=None, help="Model family (chat template, LoRA targets).")
@click.option("--model", default=None, help="Base model: a hub id or a local directory.")
@click.option("--gguf-file", default=None, help="Load the base weights from this GGUF file in --model's directory.")
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default=None,
    help=f"lora (16-bit base) or qlora (4-bit NF4 base). {_default('method')}",
)
@click.option(
    "--train",
    "train",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"GLM-4 dialogue file. [default: {DEFAULT_TRAIN} in the data dir]",
)
@click.option(
    "--dev",
    "dev",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"Dev dialogue file for the dev loss ('' for none). [default: {DEFAULT_DEV} in the data dir]",
)
@click.option(
    "--config",
    "config_file",
    default=None,
    metavar="FILE|NAME",
    help="YAML or TOML file with any setting (keys as in the saved train_config.yaml), or the name of one in "
    "finetune/configs/ (e.g. glm4-9b-qlora); options win.",
)
@click.option("--out", default=None, help="Adapter directory to create, e.g. adapters/lora-glm4.")
@click.option("--max-steps", type=int, default=None, help="Stop after N optimizer steps (overrides epochs).")
@click.option(
    "--time-limit",
    "time_limit_minutes",
    type=float,
    default=None,
    metavar="MINUTES",
    help="Stop at the first step after MINUTES of training and save the adapter as usual "
    "(hotel_agent.json records the steps done).",
)
@click.option(
    "--epochs", "num_epochs", type=float, default=None, help=f"Epochs over the training set. {_default('num_epochs')}"
)
@click.option("--batch-size", type=int, default=None, help=f"Dialogues per device batch. {_default('batch_size')}")
@click.option(
    "--gradient-accumulation-steps",
    type=int,
    default=None,
    help=f"Batches per optimizer step. {_default('gradient_accumulation_steps')}",
)
@click.option("--learning-rate", type=float, default=None, help=f"[default: {_RATES}, else {DEFAULT_LEARNING_RATE:g}]")
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default=None,
    help="auto: bf16 where the GPU has it, fp16 with loss scaling where not, fp32 on CPU. "
    f"Recorded with the adapter, which is served in the same. {_default('precision')}",
)
@click.option(
    "--max-seq-len",
    type=int,
    default=None,
    help=f"Longer dialogues are cut at a turn boundary. {_default('max_seq_len')}",
)
@click.option("--limit-dialogues", type=int, default=None, help="Train on the first N dialogues only.")
@click.option("--dev-limit", type=int, default=None, help="Dev loss on the first N dev dialogues only.")
@click.option(
    "--gradient-checkpointing/--no-gradient-checkpointing",
    default=None,
    help="Recompute activations in the backward pass: less memory, one more forward per step. "
    + _default("gradient_checkpointing"),
)
@click.option("--save-steps", type=int, default=None, help=f"Checkpoint every N steps. {_default('save_steps')}")
@click.option(
    "--eval-limit",
    type=int,
    default=None,
    help="After training, replay the first N dev samples through evalharness (summary in OUT/eval_dev).",
)
@click.option("--device", default=None, help="torch device, e.g. cuda:1. [default: cuda when available, else cpu]")
@click.option(
    "--trust-remote-code/--no-trust-remote-code",
    default=None,
    help="Run modeling code shipped with the checkpoint (glm-4-9b-chat; glm-4-9b-chat-hf needs none). "
    + _default("trust_remote_code"),
)
@click.option(
    "--mix",
    multiple=True,
    metavar="PATH=RATIO",
    help="Also train on this GLM-4 dialogue file (e.g. from `finetune augment`): ratio 1 = every dialogue once, "
    "0.5 = a seeded half, 2 = twice. Repeatable.",
)
@click.option("--train-ratio", type=float, default=None, help="The same ratio for --train. [default: 1]")
@click.option(
    "--oversample",
    multiple=True,
    metavar="KIND=FACTOR",
    help="Repeat dialogues holding a model turn of KIND (as `data-report` counts them; 'later search' = every "
    "later-turn search) until each appears FACTOR times. Repeatable.",
)
@click.option(
    "--clean/--no-clean",
    default=None,
    help="Apply data-report's label fixes (bound direction) and drop duplicates before training.",
)
@click.option(
    "--init-adapter",
    type=click.Path(file_okay=False),
    default=None,
    help="Start from this adapter's weights (same family, rank and alpha; modules it lacks start fresh).",
)
@click.option(
    "--adapter-dtype",
    type=click.Choice(("bf16",)),
    default=None,
    help="Save the adapter's weights in bf16 (half the file). [default: as trained]",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue from the last complete checkpoint in --out (after a crash or kill); without --config, "
    "the settings saved in OUT/train_config.yaml are reused.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Build the real architecture on the meta device (no weights), apply the LoRA settings, check every target "
    "module, print trainable parameters and the memory estimate; train nothing. --model and --out are optional.",
)
def run(config_file: str | None, resume: bool, dry_run: bool, **options) -> None:
    """Train an adapter: one sequence per dialogue, loss on every search and assistant turn.

    Prints the resolved config and saves it, the adapter, hotel_agent.json (what the backends check on
    load) and loss.png into --out, with checkpoints every --save-steps steps."""
    from backends.llm.versions import require_transformers
    from finetune.config import build_config, find_config_file, load_config_file

    for key in ("mix", "oversample"):  # not given on the command line: keep the config file's
        options[key] = options[key] or None
    saved = Path(options["out"]) / "train_config.yaml" if options.get("out") else None
    if config_file:
        file_settings = load_config_file(find_config_file(config_file))
    elif resume and saved is not None and saved.is_file():
        file_settings = load_config_file(saved)  # `run --out DIR --resume` continues with the settings it saved
    else:
        file_settings = {}
    require_transformers()  # a course environment (transformers 4.44) fails here, in one line
    if dry_run:
        from finetune.dryrun import dry_run as check

        family = options.get("family") or file_settings.get("family")
        placeholders = {
            "out": "(dry run)",
            "model": FAMILY_TABLE[family].default_model if family in FAMILY_TABLE else None,
        }
        config = build_config({**placeholders, **file_settings}, options)
        click.echo("\n".join(check(config).lines()))
        return
    config = build_config(file_settings, options)
    from finetune.recipe import train  # torch and transformers: only once the settings are known to be valid

    train(config, resume=resume)


@main.command()
@click.option(
    "--model",
    default=None,
    help="A bundled reference model (THUDM/glm-4-9b-chat, THUDM/glm-4-9b-chat-hf, meta-llama/Llama-3.1-8B-Instruct, "
    "meta-llama/Meta-Llama-3-8B-Instruct, Qwen/Qwen2-7B-Instruct, SmolLM2-135M-Instruct, or a family name), or a local "
    "model directory with a config.json.",
)
@click.option("--params", default=None, help="Any size instead of --model, e.g. 7B (a LLaMA-2-shaped model).")
@click.option(
    "--config",
    "config_file",
    default=None,
    metavar="FILE|NAME",
    help="Take the model, method, sequence length, batch, LoRA rank and targets, checkpointing, optimizer and "
    "precision from a training config (e.g. glm4-9b-qlora); options given win.",
)
@click.option("--method", type=click.Choice(("full", "lora", "qlora")), default=None, help="[default: lora]")
@click.option("--seq-len", type=int, default=None, help="Tokens per sequence. [default: 1024]")
@click.option("--batch", type=int, default=None, help="Sequences per device batch. [default: 1]")
@click.option("--lora-r", type=int, default=None, help="[default: 8]")
@click.option(
    "--gradient-checkpointing/--no-gradient-checkpointing",
    default=None,
    help="Estimate with (or without) activation checkpointing. [default: without, or the config's]",
)
@click.option(
    "--optimizer",
    type=click.Choice(("adamw", "paged_adamw_8bit")),
    default=None,
    help="[default: adamw for full, paged_adamw_8bit for lora/qlora]",
)
def estimate(
    model: str | None,
    params: str | None,
    config_file: str | None,
    method: str | None,
    seq_len: int | None,
    batch: int | None,
    lora_r: int | None,
    gradient_checkpointing: bool | None,
    optimizer: str | None,
) -> None:
    """Estimate GPU memory: parameters, gradients, optimizer states and activations, in GiB.

    A formula, not a measurement: each row says what it assumes (the README compares it with
    published figures)."""
    from agent.core.errors import UserError
    from finetune.estimate import estimate_memory, find_architecture, llama_shaped, parse_count

    settings: dict = {"method": "lora", "seq_len": 1024, "batch": 1, "lora_r": 8, "gradient_checkpointing": False}
    targets = None
    precision = "bf16"
    if config_file:
        from finetune.config import find_config_file, load_config_file

        file = load_config_file(find_config_file(config_file))
        family = FAMILY_TABLE.get(file.get("family", ""))
        model = model or file.get("model") or (family.default_model if family else None)
        settings.update(
            method=file.get("method", default_of("method")),
            seq_len=file.get("max_seq_len", default_of("max_seq_len")),
            batch=file.get("batch_size", default_of("batch_size")),
            lora_r=file.get("lora_r", default_of("lora_r")),
            gradient_checkpointing=file.get("gradient_checkpointing", default_of("gradient_checkpointing")),
        )
        optimizer = optimizer or file.get("optimizer")
        targets = file.get("target_modules")
        precision = file.get("precision", default_of("precision"))
        precision = "bf16" if precision == "auto" else precision  # an estimate for a GPU: auto is bf16 there
    if (model is None) == (params is None):
        raise UserError("give exactly one of --model or --params (or a --config with a model)")
    given = dict(
        method=method, seq_len=seq_len, batch=batch, lora_r=lora_r, gradient_checkpointing=gradient_checkpointing
    )
    settings.update({k: v for k, v in given.items() if v is not None})
    architecture = find_architecture(model) if model else llama_shaped(parse_count(str(params)))
    result = estimate_memory(
        architecture,
        settings["method"],
        seq_len=settings["seq_len"],
        batch=settings["batch"],
        lora_r=settings["lora_r"],
        gradient_checkpointing=settings["gradient_checkpointing"],
        optimizer=optimizer,
        target_modules=targets,
        precision=precision,
    )
    click.echo(result.table())


@main.command("data-report")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--clean",
    "clean_out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a corrected copy here (bound fixes applied, duplicates dropped) and a log to OUT.log.",
)
def data_report(file: str, clean_out: str | None) -> None:
    """Report on a GLM-4 dialogue file: samples per slot and turn kind, lengths, duplicates and suspicious
    labels, each with its line number."""
    from finetune.data_report import build_report, write_clean

    click.echo(build_report(file).render())
    if clean_out:
        written, changes = write_clean(file, clean_out)
        click.echo(f"\nwrote {written} dialogues to {clean_out}; {changes} changes logged in {Path(clean_out)}.log")


@main.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="GLM-4 dialogue file to write.")
@click.option("--dialogues", "count", type=int, default=None, help="How many dialogues. [default: 1000]")
@click.option("--seed", type=int, default=None, help="Seed: the same seed and data give the same file. [default: 18]")
@click.option("--report", is_flag=True, help="Print the dialogues per main skill and the scenes per skill.")
def augment(out: str, count: int | None, seed: int | None, report: bool) -> None:
    """Generate training dialogues from the hotel and places databases and the phrasings in finetune/augment:
    later-turn searches, questions about shown hotels, booking (with the tool's errors), cancelling, near
    searches, clarifying questions and the Chinese-only notice, every tool result a real one."""
    from finetune.augment.generate import DEFAULT_DIALOGUES, DEFAULT_SEED, generate, open_world, write_dialogues
    from finetune.augment.guard import default_forbidden
    from finetune.augment.phrasings import load_phrasings

    world = open_world(load_phrasings())
    forbidden = default_forbidden()
    generated = generate(
        world,
        forbidden,
        count=DEFAULT_DIALOGUES if count is None else count,
        seed=DEFAULT_SEED if seed is None else seed,
    )
    sha = write_dialogues(generated.dialogues, out)
    if report:
        click.echo(generated.report() + "\n")
    click.echo(
        f"wrote {len(generated.dialogues)} dialogues to {out} (sha256 {sha[:12]}); none copies one of the "
        f"{len(forbidden):,} dev/test user turns and suite lines"
    )


@main.command()
@click.option("--adapter", required=True, type=click.Path(file_okay=False), help="The LoRA adapter to shrink.")
@click.option("--rank", required=True, type=int, help="The new, lower rank.")
@click.option("--alpha", type=int, default=None, help="The new lora_alpha. [default: the old alpha/r scale kept]")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Directory for the shrunk adapter.")
def shrink(adapter: str, rank: int, alpha: int | None, out: str) -> None:
    """Cut an adapter to a lower rank by truncated SVD of each projection's update (the best rank-k
    approximation), e.g. to fit the 2 MB a committed file may weigh, or to start a smaller run from it:

      finetune shrink --adapter runs/pilot1 --rank 3 --out runs/pilot1-r3
      finetune run --config smollm2-135m-augment --init-adapter runs/pilot1-r3 ...

    Prints the share of each update's energy (Σσ² of the kept directions) the new rank keeps."""
    from finetune.shrink import shrink_adapter

    report = shrink_adapter(adapter, out, rank=rank, alpha=alpha)
    click.echo(
        f"wrote {out}: {report.modules} projections, rank {report.old_rank} → {report.new_rank}, "
        f"{report.bytes_before / 1e6:.2f} MB → {report.bytes_after / 1e6:.2f} MB; energy kept "
        f"{100 * report.energy_kept:.1f}% on average, {100 * report.lowest_energy_kept:.1f}% at the lowest"
    )


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Also draw the curves to this PNG.")
def losses(runs: tuple[str, ...], plot: str | None) -> None:
    """Train loss of finished runs at each logged step, side by side, then their dev losses.

    Runs with the same schedule, seed and data (e.g. LoRA and QLoRA from one config) compare step for step."""
    from backends.llm.log_history import read_history
    from finetune.losses import loss_table, plot_losses

    histories = {run: read_history(run) for run in runs}
    click.echo("\n".join(loss_table(histories)))
    if plot:
        plot_losses(histories, plot, title="train loss by optimizer step")
        click.echo(f"wrote {plot}")


if __name__ == "__main__":
    main()
