"""A training run on a mixed set (course train + generated dialogues, oversampled, cleaned) records what it trained
on, and a bf16-stored adapter serves."""

from __future__ import annotations

import pytest
from safetensors import safe_open
from test_finetune_train import save_trainable_tiny, settings

from agent.core.errors import UserError
from agent.core.turns import Dialogue, UserTurn
from backends import registry
from backends.llm.adapter_info import read_adapter_info
from finetune.augment.generate import generate, open_world, write_dialogues
from finetune.augment.guard import default_forbidden
from finetune.augment.phrasings import load_phrasings
from finetune.config import build_config
from finetune.recipe import train


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    model = save_trainable_tiny("qwen2", root / "model")
    augment = root / "augment.jsonl"
    write_dialogues(generate(open_world(load_phrasings()), default_forbidden(), count=6, seed=1).dialogues, augment)
    out = root / "adapter"
    options = settings(
        model,
        out,
        limit_dialogues=4,
        max_steps=2,
        max_seq_len=1024,
        mix=[f"{augment}=0.5"],
        oversample=["later search=2"],
        clean=True,
        adapter_dtype="bf16",
    )
    train(build_config({}, options))
    return out, augment


def test_hotel_agent_json_records_the_mix_the_oversampling_and_the_cleaning(mixed_run):
    out, augment = mixed_run
    training = read_adapter_info(out).extra["training_set"]
    assert [(s["ratio"], s["used"]) for s in training["sources"]] == [(1.0, 4), (0.5, 3)]
    assert training["sources"][1]["path"] == str(augment) and len(training["sources"][1]["sha256"]) == 64
    assert training["cleaned"] is True and "later search" in training["oversampled"]
    assert training["dialogues"] == 7 + training["oversampled"]["later search"]["added"]


def test_a_bf16_adapter_is_stored_in_bf16_and_serves(mixed_run):
    out, _ = mixed_run
    with safe_open(str(out / "adapter_model.safetensors"), framework="pt") as f:
        dtypes = {str(f.get_tensor(name).dtype) for name in f.keys()}
    assert dtypes == {"torch.bfloat16"}
    assert read_adapter_info(out).extra["adapter_dtype"] == "bf16"
    backend = registry.create("lora-qwen2", adapter=str(out), max_new_tokens=4)
    [prediction] = backend.predict([Dialogue((UserTurn("有没有300元以下的酒店？"),))])
    assert prediction.raw is not None


def test_a_run_can_start_from_another_adapter_of_the_same_rank(tmp_path):
    """--init-adapter: an all-linear run starts from a q/v adapter's weights (its q/v tensors loaded, the other
    modules fresh) and records where it started."""
    model = save_trainable_tiny("qwen2", tmp_path / "model")
    base = settings(model, tmp_path / "qv", limit_dialogues=2, max_steps=1, target_modules=["q_proj", "v_proj"])
    train(build_config({}, base))
    out = tmp_path / "all"
    options = settings(model, out, limit_dialogues=2, max_steps=1, init_adapter=str(tmp_path / "qv"))
    options["target_modules"] = ["q_proj", "k_proj", "v_proj", "o_proj"]
    train(build_config({}, options))
    started = read_adapter_info(out).extra["init_adapter"]
    assert started["modules"] == ["q_proj", "v_proj"] and started["path"] == str(tmp_path / "qv")


def test_a_resumed_run_still_records_the_adapter_it_started_from(tmp_path):
    model = save_trainable_tiny("qwen2", tmp_path / "model")
    train(build_config({}, settings(model, tmp_path / "qv", limit_dialogues=2, max_steps=1)))
    out = tmp_path / "warm"
    options = settings(model, out, limit_dialogues=2, max_steps=1, save_steps=1, init_adapter=str(tmp_path / "qv"))
    train(build_config({}, options))
    train(build_config({}, {**options, "max_steps": 2}), resume=True)
    info = read_adapter_info(out)
    assert info.extra["resumed_from"] == "checkpoint-1"
    assert info.extra["init_adapter"]["path"] == str(tmp_path / "qv")


def test_a_starting_adapter_of_another_rank_is_refused(tmp_path):
    model = save_trainable_tiny("qwen2", tmp_path / "model")
    train(build_config({}, settings(model, tmp_path / "r8", limit_dialogues=2, max_steps=1)))
    with pytest.raises(UserError, match="rank 8 / alpha 32 differ from this run's 4 / 32"):
        train(
            build_config(
                {},
                settings(
                    model, tmp_path / "r4", limit_dialogues=2, max_steps=1, lora_r=4, init_adapter=str(tmp_path / "r8")
                ),
            )
        )


def test_a_starting_adapter_that_does_not_fit_is_refused_before_the_base_model_loads(tmp_path, monkeypatch):
    import finetune.recipe

    def never(*args, **kwargs):
        raise AssertionError("the base model was loaded before --init-adapter was checked")

    monkeypatch.setattr(finetune.recipe, "load_base_model", never)
    model = save_trainable_tiny("qwen2", tmp_path / "model")
    options = settings(model, tmp_path / "out", limit_dialogues=2, max_steps=1, init_adapter=str(tmp_path / "none"))
    with pytest.raises(UserError, match="--init-adapter .*none: no adapter_model.safetensors"):
        train(build_config({}, options))
