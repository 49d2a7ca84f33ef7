"""What a GPU run depends on, checked on a CPU: the device index is honoured, the precision is chosen once and
recorded with the adapter, and Llama 3.0 (no <|finetune_right_pad_id|>) trains and serves."""

from __future__ import annotations

import pytest

from agent.core.errors import UserError
from agent.core.turns import Dialogue, UserTurn
from backends import registry
from backends.llm.adapter_info import AdapterInfo, read_adapter_info, write_adapter_info
from backends.llm.encoding import pad_token_id
from backends.llm.loading import resolve_device
from finetune.config import build_config
from finetune.devices import environment_without_pin, pin_cuda_device
from finetune.recipe import train

from tiny_models import LLAMA30_MISSING, tiny_config, tiny_tokenizer


def test_cuda_n_makes_gpu_n_the_only_visible_one():
    environ: dict[str, str] = {}
    assert pin_cuda_device("cuda:1", environ) == {"CUDA_VISIBLE_DEVICES": None}
    assert environ["CUDA_VISIBLE_DEVICES"] == "1"


def test_cuda_n_counts_within_gpus_already_made_visible():
    environ = {"CUDA_VISIBLE_DEVICES": "2,3"}
    pin_cuda_device("cuda:1", environ)
    assert environ["CUDA_VISIBLE_DEVICES"] == "3"


def test_cuda_n_beyond_the_visible_gpus_is_a_one_line_error():
    with pytest.raises(UserError, match="CUDA_VISIBLE_DEVICES=0 makes only 1 GPU"):
        pin_cuda_device("cuda:1", {"CUDA_VISIBLE_DEVICES": "0"})


@pytest.mark.parametrize("device", [None, "cpu", "cuda"])
def test_a_device_without_an_index_changes_nothing(device):
    environ = {"CUDA_VISIBLE_DEVICES": "0,1"}
    assert pin_cuda_device(device, environ) == {}
    assert environ == {"CUDA_VISIBLE_DEVICES": "0,1"}


def test_cuda_n_under_a_multi_process_launch_is_refused():
    with pytest.raises(UserError, match="2-process launch"):
        pin_cuda_device("cuda:1", {"WORLD_SIZE": "2"})


def test_a_child_process_gets_the_environment_from_before_the_pin(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert "CUDA_VISIBLE_DEVICES" not in environment_without_pin({"CUDA_VISIBLE_DEVICES": None})
    assert environment_without_pin({"CUDA_VISIBLE_DEVICES": "0,1"})["CUDA_VISIBLE_DEVICES"] == "0,1"


def test_training_on_cuda_n_without_a_gpu_is_a_one_line_error(monkeypatch, tmp_path):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)  # restored after the test: train() pins it
    config = build_config({}, dict(family="qwen2", model="unused", out=str(tmp_path / "x"), device="cuda:1"))
    with pytest.raises(UserError, match="--device cuda:1: torch sees no CUDA device"):
        train(config)


def test_serving_on_a_missing_gpu_or_a_bad_device_is_a_one_line_error():
    with pytest.raises(UserError, match="--device cuda:1: torch sees no CUDA device"):
        resolve_device("cuda:1")
    with pytest.raises(UserError, match="'gpu1' is not a torch device"):
        resolve_device("gpu1")
    assert resolve_device("cpu") == "cpu"


def test_hotel_agent_json_keeps_the_training_precision(tmp_path):
    info = AdapterInfo("qwen2", "m", "lora", "h", "indent4", precision="fp16")
    write_adapter_info(tmp_path, info)
    assert read_adapter_info(tmp_path) == info


def test_an_adapter_with_an_unknown_precision_is_refused_with_the_file_named(tmp_path):
    write_adapter_info(tmp_path, AdapterInfo("qwen2", "m", "lora", "h", "indent4", precision="fp8"))
    with pytest.raises(UserError, match=r"hotel_agent\.json: precision must be one of bf16, fp16, fp32, got 'fp8'"):
        read_adapter_info(tmp_path)


def test_a_llama_3_0_tokenizer_pads_with_a_reserved_token():
    tokenizer = tiny_tokenizer("llama3", without=LLAMA30_MISSING)
    assert pad_token_id(tokenizer, "llama3") == tokenizer.convert_tokens_to_ids("<|reserved_special_token_0|>")


def test_a_llama_3_1_tokenizer_pads_with_its_finetune_pad_token():
    tokenizer = tiny_tokenizer("llama3")
    assert pad_token_id(tokenizer, "llama3") == tokenizer.convert_tokens_to_ids("<|finetune_right_pad_id|>")


def test_llama_3_0_trains_and_its_adapter_is_served(tmp_path, data_dir):
    import torch
    from transformers import AutoModelForCausalLM

    tokenizer = tiny_tokenizer("llama3", without=LLAMA30_MISSING)
    torch.manual_seed(0)
    base = tmp_path / "llama30"
    AutoModelForCausalLM.from_config(tiny_config("llama3", tokenizer)).save_pretrained(base)
    tokenizer.save_pretrained(base)
    out = tmp_path / "adapter"
    settings = dict(
        family="llama3", model=str(base), out=str(out), dev="", limit_dialogues=2, batch_size=2,
        gradient_accumulation_steps=1, max_steps=1, save_steps=100,
    )  # fmt: skip
    train(build_config({}, settings))
    assert read_adapter_info(out).precision == "fp32"  # trained on the CPU
    backend = registry.create("lora-llama3", adapter=str(out), max_new_tokens=4)
    [prediction] = backend.predict([Dialogue((UserTurn("你好"),))])
    assert prediction.raw is not None


def test_a_backend_refuses_an_old_transformers_before_loading_anything(monkeypatch, tmp_path):
    import importlib.metadata

    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "4.44.2" if name == "transformers" else real(name))
    with pytest.raises(UserError, match=r"transformers 4\.44\.2 is installed but hotel-agent needs transformers>=5\.6"):
        registry.create("prompt-qwen2", model=str(tmp_path))  # not even a model there: the version fails first
