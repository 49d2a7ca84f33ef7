"""Checkpoints with their own modeling code (glm-4-9b-chat's layout): an explicit --trust-remote-code, never a
prompt; without it a one-line error naming the flag; with it, LoRA on the layout's own fused projection, trained,
evaluated and served. The checkpoint is tests/tiny_remote_code.py's double, not glm-4-9b-chat itself."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from agent.core.errors import UserError
from agent.core.turns import Dialogue, UserTurn
from backends import registry
from backends.llm.adapter_info import read_adapter_info
from backends.options import backend_kwargs
from finetune.cli import main
from finetune.config import build_config
from finetune.dryrun import BUILT, dry_run
from finetune.recipe import train

from tiny_remote_code import save_remote_code_tiny

PROMPT = Dialogue((UserTurn("有没有300元以下的酒店？"),))


@pytest.fixture(scope="module")
def remote_dir(tmp_path_factory):
    return save_remote_code_tiny(tmp_path_factory.mktemp("chatglm") / "model")


def refusal(model) -> str:
    return (
        f"{model} needs its own modeling code (config.json model_type 'chatglm'); pass --trust-remote-code to run "
        "it, or use the THUDM/glm-4-9b-chat-hf layout, which runs on transformers' own code"
    )


def test_training_it_without_the_flag_is_a_one_line_error_before_anything_is_written(remote_dir, tmp_path):
    out = tmp_path / "adapter"
    result = CliRunner().invoke(
        main,
        ["run", "--family", "glm4", "--model", str(remote_dir), "--out", str(out), "--dev", "", "--max-steps", "1"],
    )
    assert result.exit_code == 1
    assert result.output == f"error: {refusal(remote_dir)}\n"
    assert not out.exists()


@pytest.fixture(scope="module")
def remote_run(remote_dir, tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("chatglm-run") / "adapter"
    settings = dict(
        family="glm4",
        model=str(remote_dir),
        out=str(out),
        trust_remote_code=True,
        limit_dialogues=2,
        dev_limit=2,
        batch_size=2,
        gradient_accumulation_steps=1,
        max_steps=2,
        save_steps=100,
        eval_limit=2,  # the dev evaluation is a child process: it must get the flag too
        eval_max_new_tokens=4,
    )
    train(build_config({}, settings))
    return out


def test_with_the_flag_lora_trains_the_fused_query_key_value_of_that_layout(remote_run):
    adapter_config = json.loads((remote_run / "adapter_config.json").read_text())
    assert sorted(adapter_config["target_modules"]) == ["query_key_value"]
    assert read_adapter_info(remote_run).extra["hyperparameters"]["trust_remote_code"] is True


def test_the_dev_evaluation_after_training_runs_it_with_the_flag(remote_run):
    summary = json.loads((remote_run / "eval_dev" / "summary.json").read_text())
    assert summary["metrics"]["samples"] == 2


def test_its_adapter_is_refused_by_the_backend_without_the_flag(remote_run, remote_dir):
    with pytest.raises(UserError) as error:
        registry.create("lora-glm4", adapter=str(remote_run))
    assert str(error.value) == refusal(remote_dir)


def test_its_adapter_is_served_with_the_flag(remote_run):
    backend = registry.create("lora-glm4", adapter=str(remote_run), trust_remote_code=True, max_new_tokens=4)
    [prediction] = backend.predict([PROMPT])
    assert prediction.raw is not None


def test_the_flag_reaches_the_backends_only_when_given():
    assert "trust_remote_code" not in backend_kwargs({"trust_remote_code": None, "model": None})
    assert backend_kwargs({"trust_remote_code": True}) == {"trust_remote_code": True}


def test_the_dry_run_builds_a_trusted_local_checkpoint_with_its_own_code(remote_dir):
    run = dry_run(build_config({}, dict(family="glm4", model=str(remote_dir), out="-", trust_remote_code=True)))
    assert run.remote_code and run.counted_by == BUILT
    assert run.config.target_modules == ("query_key_value",)
    # 2 layers × r 8 × (hidden 64 + q 64 + 2 × kv 32)
    assert run.trainable == run.formula == 2 * 8 * (64 + 128)
