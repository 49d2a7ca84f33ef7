"""`evalharness`: score a backend on the course's test split exactly as the reference did, and compare runs."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click

from agent.core.cli_support import FriendlyGroup
from backends.options import backend_kwargs, backend_options

# Backends that replay the data itself: they read the evaluated file unless --model names another.
REPLAYS_DATA = ("gold",)
DEFAULT_BATCH_SIZE = 8
# A served backend sends one request per dialogue: batches of one let a failure cost only its sample and
# --concurrency alone set the requests in flight.
ONE_REQUEST_EACH_BACKENDS = ("served",)
ONE_REQUEST_EACH = 1


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Offline evaluation: replay turn-level samples through a backend and score them with the
    reference's metrics (slot P/R/F1, character BLEU-4) plus sacreBLEU; compare runs side by side."""


@main.command()
@backend_options(None, harness_only=("gold", "reply-only", "rules-course"))
@click.option(
    "--data",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Turn-level samples or GLM-4 dialogue file (default: hotel/test.jsonl in the data dir).",
)
@click.option("--limit", type=int, default=None, help="Evaluate only the first N samples.")
@click.option(
    "--batch-size",
    type=int,
    default=None,
    help="Dialogues per backend.predict call (default 8; 1 for the served backend, which sends one request each).",
)
@click.option(
    "--concurrency",
    type=int,
    default=1,
    show_default=True,
    help="Batches in flight at once (threads): for backends that wait on a server, e.g. served.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run directory (default: runs/<backend>-<UTC timestamp>).",
)
@click.option("--resume", is_flag=True, help="Finish an interrupted run in --out: predict only the missing samples.")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary table.")
def run(
    backend: str,
    data: Path | None,
    limit: int | None,
    batch_size: int | None,
    concurrency: int,
    out: Path | None,
    resume: bool,
    quiet: bool,
    **options,
) -> None:
    """Predict every sample with --backend and score the run.

    Writes DIR/predictions.jsonl (one line per sample, in input order: id, expected, predicted, raw,
    scores, tokens, error) and DIR/summary.json (metrics + signature: data sha256, backend, base model or
    server URL and model, adapter, template hash, metric settings, package versions, wall time, samples/s,
    generated tokens/s)."""
    from agent.core.datafiles import TEST, data_path
    from agent.core.errors import UserError
    from backends.registry import create
    from evalharness.compare import summary_lines
    from evalharness.runner import RunOptions, check_utf8, evaluate

    if resume and out is None:
        raise UserError("--resume needs --out DIR (the run to finish)")
    data = data if data is not None else data_path(TEST)
    if not data.is_file():
        raise UserError(f"--data {data}: no such file")
    check_utf8(data)  # before the backend reads it (gold) or a server is contacted
    kwargs = backend_kwargs(options)
    if backend in REPLAYS_DATA:
        kwargs.setdefault("model", str(data))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = out if out is not None else Path("runs") / f"{backend}-{stamp}"
    if batch_size is None:
        batch_size = ONE_REQUEST_EACH if backend in ONE_REQUEST_EACH_BACKENDS else DEFAULT_BATCH_SIZE
    result = evaluate(
        create(backend, **kwargs),
        backend,
        RunOptions(
            data=data,
            out=out,
            batch_size=batch_size,
            limit=limit,
            resume=resume,
            quiet=quiet,
            concurrency=concurrency,
        ),
    )
    if not quiet:
        for line in summary_lines(result.summary):
            click.echo(line)
        speed = result.summary["run"]
        if speed.get("tokens_per_s"):
            click.echo(
                f"{speed['samples_per_s']} samples/s, {speed['generated_tokens']} tokens generated "
                f"({speed['tokens_per_s']} tokens/s), concurrency {speed['concurrency']}"
            )
    click.echo(f"wrote {out / 'predictions.jsonl'} and {out / 'summary.json'}")
    if result.metrics.failed:
        click.echo(
            f"warning: the backend failed on {result.metrics.failed} sample(s); see 'error' in predictions.jsonl",
            err=True,
        )


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--data",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The data file the run replayed (default: the path its summary records).",
)
@click.option("--cases", type=int, default=10, show_default=True, help="Wrong-kind samples to list.")
def analyze(run_dir: Path, data: Path | None, cases: int) -> None:
    """Where a finished run loses points: slots per key, replies by kind (results / follow-up / closing)
    with loops and wrong-kind counts, search exact matches, and the wrong-kind samples themselves."""
    from evalharness.analysis import analyze as analyze_run

    click.echo("\n".join(analyze_run(run_dir, data, cases).lines))


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--with-reference", is_flag=True, help="Add the six reference rows (the course's published figures).")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also draw a grouped bar chart of BLEU-4/P/R/F1 to this PNG.",
)
def compare(runs: tuple[Path, ...], with_reference: bool, plot: Path | None) -> None:
    """Print one markdown table of run directories (and the reference).

    A `warning:` line above the table says when the runs were scored on different data (sha256) or on
    different numbers of samples, so such figures are never compared unawares."""
    from evalharness.compare import compare_runs, load_runs

    loaded = load_runs(runs)
    table = compare_runs(loaded, with_reference=with_reference)
    click.echo(table.markdown)
    if plot is not None:
        from evalharness.plot import plot_rows

        plot_rows(table.rows, plot)
        click.echo(f"wrote {plot}")


@main.command()
@backend_options(None)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run directory (default: runs/nearx-<backend>-<UTC timestamp>).",
)
@click.option(
    "--limit", type=int, default=None, help="Evaluate only the first N cases (a fair sample: the set is shuffled)."
)
@click.option("--seed", type=int, default=None, help="Build the set with another seed (default: the project's, 19).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def nearx(backend: str, out: Path | None, limit: int | None, seed: int | None, quiet: bool, **options) -> None:
    """Hotels near X: run the project's near-X set (340 requests for hotels near CrossWOZ attractions,
    restaurants, hotels and subway stations) through the dialogue loop with --backend and score task success.

    Writes DIR/predictions.jsonl (each case, the searches and hotels of its last exchange, the reply, the
    scores) and DIR/summary.json (task success by kind of place, phrasing and answer, with a signature)."""
    from agent.core.store import HotelStore
    from backends.registry import create
    from evalharness.nearx.cases import DEFAULT_SEED
    from evalharness.nearx.run import NearRunOptions, run_nearx, summary_lines

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = out if out is not None else Path("runs") / f"nearx-{backend}-{stamp}"
    run_options = NearRunOptions(out=out, seed=DEFAULT_SEED if seed is None else seed, limit=limit, quiet=quiet)
    summary = run_nearx(create(backend, **backend_kwargs(options)), backend, HotelStore.open(), run_options)
    for line in summary_lines(summary):
        click.echo(line)
    click.echo(f"wrote {out / 'predictions.jsonl'} and {out / 'summary.json'}")


@main.command("store-fidelity")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--show-misses", is_flag=True, help="Print every miss with its cause.")
def store_fidelity(files: tuple[Path, ...], show_misses: bool) -> None:
    """How closely the hotel store reproduces the course's search results (default files: dev + test GLM-4
    dialogues, which the facility map never saw): hit, non-empty and top-3 rates, and each miss's cause."""
    from agent.core.datafiles import data_path
    from agent.core.store import HotelStore
    from evalharness.store_fidelity import DEFAULT_FILES, measure, report_lines

    paths = list(files) or [data_path(f) for f in DEFAULT_FILES]
    report = measure(HotelStore.open(), paths)
    click.echo("\n".join(report_lines(report, paths, show_misses)))


# ---- conversation-level evaluation (issue 15): `converse` and `simulate` -----------------------------------


def _today_option(f):
    return click.option(
        "--today",
        default=None,
        help="The date the conversations happen on, YYYY-MM-DD (default 2026-11-29, so dates read the same any day).",
    )(f)


def _parse_today(value: str | None):
    import datetime as dt

    from agent.core.errors import UserError
    from evalharness.conversations.converse import DEFAULT_TODAY

    if value is None:
        return DEFAULT_TODAY
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--today {value!r} is not a date such as 2026-11-29") from None


@main.command()
@click.argument("suite", required=False, type=click.Path(path_type=Path))
@backend_options(None)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run directory (default: runs/converse-<backend>-<UTC timestamp>).",
)
@_today_option
@click.option("--failures", type=int, default=20, show_default=True, help="Failed conversations to list.")
@click.option("--quiet", is_flag=True, help="No progress line.")
def converse(
    suite: Path | None, backend: str, out: Path | None, today: str | None, failures: int, quiet: bool, **options
) -> None:
    """Run conversation suites (a YAML file or a directory of them; default: the bundled evalharness/suites/)
    through the real dialogue loop, each conversation in a fresh store with empty bookings, and judge every step
    and the end from the store and the bookings.

    Writes DIR/conversations.jsonl (transcripts and per-step failures) and DIR/summary.json (pass rate, false
    booking claims, turns and seconds per conversation, per suite and tag, signature)."""
    from backends.registry import create
    from evalharness.conversations.converse import run_suites, summary_lines
    from evalharness.conversations.suite import bundled_suites_dir, load_suites

    day = _parse_today(today)
    suites = load_suites(suite if suite is not None else bundled_suites_dir())
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = out if out is not None else Path("runs") / f"converse-{backend}-{stamp}"
    total = sum(len(s.conversations) for s in suites)
    done = [0]

    def progress(result) -> None:
        done[0] += 1
        if not quiet:
            mark = "pass" if result.passed else "FAIL"
            click.echo(f"[{done[0]}/{total}] {mark} {result.conversation.id}", err=True)

    summary = run_suites(suites, create(backend, **backend_kwargs(options)), backend, out, day, progress)
    for line in summary_lines(summary, failures):
        click.echo(line)
    click.echo(f"wrote {out / 'conversations.jsonl'} and {out / 'summary.json'}")


@main.command()
@backend_options(None)
@click.option("--goals", type=int, default=500, show_default=True, help="How many seeded goals to simulate.")
@click.option("--seed", type=int, default=0, show_default=True, help="Goal i of seed s is the same in every run.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run directory (default: runs/simulate-<backend>-<UTC timestamp>).",
)
@_today_option
@click.option(
    "--near-share",
    type=float,
    default=0.0,
    show_default=True,
    help="Share of goals that want a hotel near an attraction (needs the `near` search argument).",
)
@click.option("--quiet", is_flag=True, help="No progress line.")
def simulate(
    backend: str,
    goals: int,
    seed: int,
    out: Path | None,
    today: str | None,
    near_share: float,
    quiet: bool,
    **options,
) -> None:
    """Let a goal-driven simulated user talk to --backend: goals drawn from the hotel database (constraints,
    facts to ask, a booking, sometimes a change of mind or a cancellation), judged from the bookings store.

    Reports task success, booking rate, inform accuracy, turns to success and false booking claims; writes
    DIR/goals.jsonl (each goal's transcript and verdict) and DIR/summary.json."""
    from backends.registry import create
    from evalharness.conversations.simulate import simulate as run_simulation
    from evalharness.conversations.simulate import summary_lines

    day = _parse_today(today)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = out if out is not None else Path("runs") / f"simulate-{backend}-{stamp}"
    done = [0, 0]

    def progress(result) -> None:
        done[0] += 1
        done[1] += result.success
        if not quiet and (done[0] % 25 == 0 or done[0] == goals):
            click.echo(f"[{done[0]}/{goals}] task success so far {done[1]}/{done[0]}", err=True)

    summary = run_simulation(
        create(backend, **backend_kwargs(options)), backend, out, goals, seed, day, near_share, progress=progress
    )
    for line in summary_lines(summary):
        click.echo(line)
    click.echo(f"wrote {out / 'goals.jsonl'} and {out / 'summary.json'}")
