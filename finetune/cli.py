"""`finetune`: train LoRA/QLoRA adapters, estimate their GPU memory, and inspect the training data.

torch and transformers are imported only by `finetune run`, so `estimate` and `data-report` start fast."""

from __future__ import annotations

from pathlib import Path

import click

from agent.core.cli_support import FriendlyGroup
from finetune.config import FAMILIES, METHODS


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Fine-tune GLM-4 / Llama-3 / Qwen2 for the hotel agent with LoRA or QLoRA."""


@main.command()
@click.option("--family", type=click.Choice(FAMILIES), default=None, help="Model family (chat template, LoRA targets).")
@click.option("--model", default=None, help="Base model: a hub id or a local directory.")
@click.option("--gguf-file", default=None, help="Load the base weights from this GGUF file in --model's directory.")
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default=None,
    help="lora (16-bit base) or qlora (4-bit NF4 base). [default: lora]",
)
@click.option(
    "--train",
    "train",
    type=click.Path(dir_okay=False),
    default=None,
    help="GLM-4 dialogue file. [default: hotel/train.glm4.jsonl in the data dir]",
)
@click.option(
    "--dev",
    "dev",
    type=click.Path(dir_okay=False),
    default=None,
    help="Dev dialogue file for the dev loss ('' for none). [default: hotel/dev.glm4.jsonl in the data dir]",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="YAML or TOML file with any setting (keys as in the saved train_config.yaml); options win.",
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
@click.option("--epochs", "num_epochs", type=float, default=None, help="Epochs over the training set. [default: 2]")
@click.option("--batch-size", type=int, default=None, help="Dialogues per device batch. [default: 4]")
@click.option("--learning-rate", type=float, default=None, help="[default: 5e-4 for glm4, else 2e-4]")
@click.option("--limit-dialogues", type=int, default=None, help="Train on the first N dialogues only.")
@click.option("--dev-limit", type=int, default=None, help="Dev loss on the first N dev dialogues only.")
@click.option(
    "--gradient-checkpointing/--no-gradient-checkpointing",
    default=None,
    help="Recompute activations in the backward pass: less memory, one more forward per step.",
)
@click.option("--save-steps", type=int, default=None, help="Checkpoint every N steps. [default: 100]")
@click.option(
    "--eval-limit",
    type=int,
    default=None,
    help="After training, replay the first N dev samples through evalharness (summary in OUT/eval_dev).",
)
@click.option("--device", default=None, help="torch device. [default: cuda when available, else cpu]")
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
def run(config_file: str | None, resume: bool, **options) -> None:
    """Train an adapter: one sequence per dialogue, loss on every search and assistant turn.

    Prints the resolved config and saves it, the adapter, hotel_agent.json (what the backends check on
    load) and loss.png into --out, with checkpoints every --save-steps steps."""
    from finetune.config import build_config, load_config_file

    for key in ("mix", "oversample"):  # not given on the command line: keep the config file's
        options[key] = options[key] or None
    saved = Path(options["out"]) / "train_config.yaml" if options.get("out") else None
    if config_file:
        file_settings = load_config_file(config_file)
    elif resume and saved is not None and saved.is_file():
        file_settings = load_config_file(saved)  # `run --out DIR --resume` continues with the settings it saved
    else:
        file_settings = {}
    config = build_config(file_settings, options)
    from finetune.recipe import train  # torch and transformers: only once the settings are known to be valid

    train(config, resume=resume)


@main.command()
@click.option(
    "--model",
    default=None,
    help="A bundled reference model: THUDM/glm-4-9b-chat, meta-llama/Llama-3.1-8B-Instruct, "
    "Qwen/Qwen2-7B-Instruct (or glm4, llama3, qwen2).",
)
@click.option("--params", default=None, help="Any size instead of --model, e.g. 7B (a LLaMA-2-shaped model).")
@click.option("--method", type=click.Choice(("full", "lora", "qlora")), default="lora", show_default=True)
@click.option("--seq-len", type=int, default=1024, show_default=True, help="Tokens per sequence.")
@click.option("--batch", type=int, default=1, show_default=True, help="Sequences per device batch.")
@click.option("--lora-r", type=int, default=8, show_default=True)
@click.option("--gradient-checkpointing", is_flag=True, help="Estimate with activation checkpointing.")
@click.option(
    "--optimizer",
    type=click.Choice(("adamw", "paged_adamw_8bit")),
    default=None,
    help="[default: adamw for full, paged_adamw_8bit for lora/qlora]",
)
def estimate(
    model: str | None,
    params: str | None,
    method: str,
    seq_len: int,
    batch: int,
    lora_r: int,
    gradient_checkpointing: bool,
    optimizer: str | None,
) -> None:
    """Estimate GPU memory: parameters, gradients, optimizer states and activations, in GiB.

    A formula, not a measurement: each row says what it assumes (the README compares it with
    published figures)."""
    from agent.core.errors import UserError
    from finetune.estimate import estimate_memory, find_architecture, llama_shaped, parse_count

    if (model is None) == (params is None):
        raise UserError("give exactly one of --model or --params")
    architecture = find_architecture(model) if model else llama_shaped(parse_count(str(params)))
    result = estimate_memory(
        architecture,
        method,
        seq_len=seq_len,
        batch=batch,
        lora_r=lora_r,
        gradient_checkpointing=gradient_checkpointing,
        optimizer=optimizer,
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
