"""Training runs on tiny random models (hidden 64: bitsandbytes' 4-bit blocks need rows of 64 on CPU)."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.core.datafiles import sha256_of
from agent.core.turns import Dialogue, ReturnTurn, SearchTurn, UserTurn
from backends import registry
from backends.llm.adapter_info import read_adapter_info
from finetune.config import build_config
from finetune.recipe import last_complete_checkpoint, load_base_model, train
from prompts import RenderSettings, template_hash

from tiny_models import tiny_config, tiny_tokenizer

REPO = Path(__file__).resolve().parents[1]


def save_trainable_tiny(family: str, directory: Path) -> Path:
    import torch
    from transformers import AutoModelForCausalLM

    tokenizer = tiny_tokenizer(family)
    config = tiny_config(family, tokenizer)
    config.hidden_size, config.head_dim, config.intermediate_size = 64, 16, 128
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("finetune-models")
    made: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in made:
            made[family] = save_trainable_tiny(family, root / family)
        return made[family]

    return get


def settings(model: Path, out: Path, **overrides):
    base = dict(
        family="qwen2",
        model=str(model),
        out=str(out),
        dev="",
        limit_dialogues=4,
        batch_size=4,
        gradient_accumulation_steps=1,
        max_steps=4,
        save_steps=100,
        logging_steps=1,
        warmup_ratio=0.0,
    )
    base.update(overrides)
    return base


def train_losses(out: Path) -> list[float]:
    history = json.loads((out / "log_history.json").read_text())
    return [e["loss"] for e in history if "loss" in e]


@pytest.mark.parametrize("family", ["glm4", "llama3", "qwen2"])
def test_loss_falls_when_overfitting_a_handful_of_dialogues(family, tiny_dirs, tmp_path):
    # one fixed batch, constant learning rate, no dropout: nothing but the adapter's fit moves the loss
    config = build_config(
        {},
        settings(
            tiny_dirs(family),
            tmp_path / "a",
            family=family,
            max_steps=15,
            learning_rate=3e-3,
            lr_scheduler="constant",
            lora_dropout=0.0,
        ),
    )
    train(config)
    losses = train_losses(tmp_path / "a")
    assert len(losses) == 15
    assert losses[-1] < losses[0] - 0.2, losses


@pytest.fixture(scope="module")
def lora_run(tiny_dirs, tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("run") / "adapter"
    train(
        build_config(
            {},
            settings(
                tiny_dirs("qwen2"),
                out,
                dev=None,
                dev_limit=4,
                max_steps=4,
                save_steps=2,
                eval_limit=3,
                eval_max_new_tokens=4,
            ),
        )
    )
    return out


def test_a_run_writes_the_adapter_its_config_and_the_loss_plot(lora_run):
    for name in ("adapter_model.safetensors", "adapter_config.json", "train_config.yaml", "loss.png"):
        assert (lora_run / name).is_file(), name
    assert (lora_run / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (lora_run / "checkpoints").iterdir()) == ["checkpoint-2", "checkpoint-4"]


def test_hotel_agent_json_says_what_the_backends_check_and_how_it_was_trained(lora_run, data_dir):
    info = read_adapter_info(lora_run)
    assert (info.family, info.method, info.record_style) == ("qwen2", "lora", "indent4")
    assert info.precision == "fp32"  # trained on the CPU: the backend serves it in the same
    assert info.template_hash == template_hash("qwen2", RenderSettings(record_style="indent4"))
    extra = info.extra
    assert extra["train_data"]["sha256"] == sha256_of(data_dir / "hotel" / "train.glm4.jsonl")
    assert extra["train_data"]["dialogues"] == 4 and extra["dev_data"]["dialogues"] == 4
    assert extra["hyperparameters"]["lora_r"] == 8 and extra["hyperparameters"]["optimizer"] == "adamw_torch"
    assert math.isfinite(extra["final_train_loss"]) and math.isfinite(extra["final_dev_loss"])
    assert {"torch", "transformers", "peft", "bitsandbytes"} <= extra["versions"].keys()
    assert extra["steps"] == 4 and extra["resumed_from"] is None
    assert extra["train_tokens_seen"] > 0 and extra["peak_rss_gib"] > 0.1


def test_time_limit_stops_early_and_still_saves_a_servable_adapter(tiny_dirs, tmp_path):
    out = tmp_path / "timed"
    # a limit far below one step's time: training ends after its first step
    train(build_config({}, settings(tiny_dirs("qwen2"), out, max_steps=50, time_limit_minutes=1e-6)))
    info = read_adapter_info(out)
    assert info.extra["steps"] == 1 and info.extra["stopped_by_time_limit"] is True
    assert (out / "adapter_model.safetensors").is_file()


def test_the_eta_counts_the_mean_tokens_of_the_steps_left_not_the_long_first_steps():
    from finetune.recipe import token_eta

    # 150 steps of 4,000 tokens on average, at 200 tokens/s: 3,000 s, however long the first steps were
    assert token_eta(steps_left=150, tokens_per_step=4000.0, rate=200.0) == pytest.approx(3000.0)
    assert token_eta(steps_left=0, tokens_per_step=4000.0, rate=200.0) == 0.0


def test_there_is_no_eta_before_a_token_rate_is_known():
    from finetune.recipe import token_eta

    assert token_eta(steps_left=10, tokens_per_step=4000.0, rate=0.0) is None


def test_a_run_within_its_time_limit_is_not_marked_as_stopped(lora_run):
    assert read_adapter_info(lora_run).extra["stopped_by_time_limit"] is False


def test_eval_limit_scores_dev_samples_through_evalharness_next_to_the_adapter(lora_run):
    summary = json.loads((lora_run / "eval_dev" / "summary.json").read_text())
    assert summary["metrics"]["samples"] == 3
    assert summary["signature"]["backend"]["adapter"] == str(lora_run)


def test_qlora_base_is_nf4_with_double_quantization(tiny_dirs, tmp_path):
    from bitsandbytes.nn import Linear4bit

    config = build_config({}, settings(tiny_dirs("llama3"), tmp_path / "q", family="llama3", method="qlora"))
    model = load_base_model(config, cuda=False)
    projection = model.model.layers[0].self_attn.q_proj
    assert isinstance(projection, Linear4bit)
    assert projection.weight.quant_type == "nf4"
    assert projection.weight.quant_state.nested  # double quantization: the block constants are quantized too


@pytest.fixture(scope="module")
def qlora_run(tiny_dirs, tmp_path_factory):
    out = tmp_path_factory.mktemp("qrun") / "adapter"
    train(
        build_config(
            {},
            settings(
                tiny_dirs("llama3"),
                out,
                family="llama3",
                method="qlora",
                max_steps=3,
                gradient_checkpointing=True,
                learning_rate=3e-3,
            ),
        )
    )
    return out


def test_qlora_trains_on_cpu_and_writes_a_qlora_adapter(qlora_run):
    assert read_adapter_info(qlora_run).method == "qlora"
    assert all(math.isfinite(loss) for loss in train_losses(qlora_run))


PROMPT = Dialogue((UserTurn("有没有300元以下的酒店？"),))


def test_lora_adapter_loads_in_the_lora_backend_and_generates(lora_run):
    backend = registry.create("lora-qwen2", adapter=str(lora_run), max_new_tokens=6)  # base from hotel_agent.json
    [prediction] = backend.predict([PROMPT])
    assert prediction.raw is not None
    assert backend.signature()["adapter_sha256"] == sha256_of(lora_run / "adapter_model.safetensors")


def test_qlora_adapter_loads_in_the_qlora_backend_and_generates_a_batch(qlora_run):
    backend = registry.create("qlora-llama3", adapter=str(qlora_run), max_new_tokens=6)
    predictions = backend.predict([PROMPT, PROMPT.with_turn(SearchTurn({"price_range_upper": 300}), ReturnTurn([]))])
    assert len(predictions) == 2 and backend.signature()["dtype"].endswith("nf4")


def test_an_adapter_is_refused_by_another_familys_backend(lora_run):
    from agent.core.errors import UserError

    with pytest.raises(UserError, match="trained for family 'qwen2'"):
        registry.create("lora-llama3", adapter=str(lora_run))


def test_run_refuses_to_overwrite_checkpoints_without_resume(lora_run):
    from agent.core.errors import UserError

    config = build_config({}, settings(Path("unused"), lora_run))
    with pytest.raises(UserError, match="already has checkpoints; pass --resume"):
        train(config)


def test_run_refuses_an_out_that_already_holds_an_adapter(tmp_path):
    from agent.core.errors import UserError

    (tmp_path / "adapter_config.json").write_text("{}")
    with pytest.raises(UserError, match="already holds an adapter; choose a new --out"):
        train(build_config({}, settings(Path("unused"), tmp_path)))


def test_a_missing_train_file_fails_before_any_model_is_loaded(tmp_path):
    from agent.core.errors import UserError

    # "unused" is no model at all: reaching the model loader would fail differently
    config = build_config({}, settings(Path("unused"), tmp_path / "out", train=str(tmp_path / "nope.jsonl")))
    with pytest.raises(UserError, match="nope.jsonl: no such dialogue file"):
        train(config)


def test_resume_skips_a_checkpoint_left_half_written(tmp_path):
    (tmp_path / "checkpoint-2").mkdir()
    (tmp_path / "checkpoint-2" / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-4").mkdir()  # killed while saving: no trainer_state.json yet
    assert last_complete_checkpoint(tmp_path) == tmp_path / "checkpoint-2"


def finetune_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "finetune.cli", "run", *args]


def test_resume_continues_after_kill_9(tiny_dirs, tmp_path):
    out = tmp_path / "killed"
    model = str(tiny_dirs("qwen2"))
    args = [
        "--family",
        "qwen2",
        "--model",
        model,
        "--out",
        str(out),
        "--dev",
        "",
        "--limit-dialogues",
        "8",
        "--batch-size",
        "2",
        "--gradient-accumulation-steps",
        "1",
        "--max-steps",
        "40",
        "--save-steps",
        "2",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        finetune_command(*args), cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while last_complete_checkpoint(out / "checkpoints") is None:
            assert process.poll() is None, "training ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert not (out / "adapter_model.safetensors").exists()
    killed_at = last_complete_checkpoint(out / "checkpoints")

    # only --out: the settings come from the train_config.yaml the killed run saved
    resumed = subprocess.run(
        finetune_command("--out", str(out), "--resume"), cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    info = read_adapter_info(out)
    assert info.extra["resumed_from"] == killed_at.name
    assert info.extra["steps"] == 40
    steps_logged = [e["step"] for e in json.loads((out / "log_history.json").read_text()) if "loss" in e]
    assert steps_logged[0] == 1 and steps_logged[-1] == 40  # history from before the kill was restored


def test_two_process_cpu_launch_writes_exactly_one_adapter(tiny_dirs, tmp_path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun not installed")
    out = tmp_path / "ddp"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [
            torchrun,
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "finetune.cli",
            "run",
            "--family",
            "qwen2",
            "--model",
            str(tiny_dirs("qwen2")),
            "--out",
            str(out),
            "--dev",
            "",
            "--limit-dialogues",
            "8",
            "--batch-size",
            "2",
            "--gradient-accumulation-steps",
            "1",
            "--max-steps",
            "3",
            "--save-steps",
            "100",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    adapters = [p for p in out.rglob("adapter_model.safetensors") if "checkpoints" not in p.parts]
    assert adapters == [out / "adapter_model.safetensors"]
    info = read_adapter_info(out)
    assert info.extra["world_size"] == 2 and info.extra["steps"] == 3
    assert result.stdout.count("final train loss") == 1  # only rank 0 reports and writes


# Read at import, before the session fixture points HOTEL_AGENT_CACHE at an empty test cache.
SMOLLM2_GGUF = __import__("backends.llm.smollm2", fromlist=["SMOLLM2"]).SMOLLM2.path()


@pytest.mark.smollm2
@pytest.mark.slow  # ~30 s: de-quantizing the GGUF and one step of a 135M model on CPU
@pytest.mark.skipif(not SMOLLM2_GGUF.is_file(), reason="SmolLM2 not fetched; run `hotel-agent models fetch smollm2`")
def test_lora_trains_on_a_gguf_base(tmp_path):
    out = tmp_path / "smol"
    train(
        build_config(
            {},
            settings(
                SMOLLM2_GGUF.parent,
                out,
                family="smollm2",
                gguf_file=SMOLLM2_GGUF.name,
                max_steps=1,
                limit_dialogues=1,
                batch_size=1,
            ),
        )
    )
    info = read_adapter_info(out)
    assert (info.family, info.extra["gguf_file"]) == ("smollm2", SMOLLM2_GGUF.name)
    assert math.isfinite(info.extra["final_train_loss"])


@pytest.mark.smollm2
@pytest.mark.slow  # ~40 s: a de-quantized copy, 4-bit quantization and one step of a 135M model on CPU
@pytest.mark.skipif(not SMOLLM2_GGUF.is_file(), reason="SmolLM2 not fetched; run `hotel-agent models fetch smollm2`")
def test_qlora_trains_on_a_gguf_base_through_its_dequantized_copy(tmp_path):
    out = tmp_path / "smol-q"
    train(
        build_config(
            {},
            settings(
                SMOLLM2_GGUF.parent,
                out,
                family="smollm2",
                gguf_file=SMOLLM2_GGUF.name,
                method="qlora",
                max_steps=1,
                limit_dialogues=1,
                batch_size=1,
            ),
        )
    )
    info = read_adapter_info(out)
    assert (info.method, info.extra["gguf_file"]) == ("qlora", SMOLLM2_GGUF.name)
    assert math.isfinite(info.extra["final_train_loss"])


def test_the_training_model_is_freed_before_the_dev_evaluation_starts(tiny_dirs, tmp_path, monkeypatch):
    import gc
    import weakref

    import finetune.evaluation
    import finetune.recipe

    models: list[weakref.ref] = []
    add_lora = finetune.recipe.add_lora

    def tracked(model, config):
        adapted = add_lora(model, config)
        models.append(weakref.ref(adapted))
        return adapted

    seen: dict[str, object] = {}

    def evaluate(config, adapter, data, **options):  # stands in for the evalharness child process
        gc.collect()
        seen["model alive"] = models[0]() is not None
        return adapter / "eval_dev"

    monkeypatch.setattr(finetune.recipe, "add_lora", tracked)
    monkeypatch.setattr(finetune.evaluation, "evaluate_adapter", evaluate)
    train(
        build_config(
            {}, settings(tiny_dirs("qwen2"), tmp_path / "freed", dev=None, dev_limit=2, max_steps=1, eval_limit=1)
        )
    )
    assert seen == {"model alive": False}
