"""Training config: defaults < config file (YAML or TOML) < command line, resolved per family and machine."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from agent.core.errors import UserError
from finetune.cli import main
from finetune.config import build_config, load_config_file, resolve
from prompts.families import get_family

REQUIRED = {"family": "qwen2", "model": "some/model", "out": "adapters/x"}


def test_reference_defaults():
    config = build_config({}, REQUIRED)
    assert (config.lora_r, config.lora_alpha, config.lora_dropout) == (8, 32, 0.1)
    assert (config.num_epochs, config.warmup_ratio, config.method) == (2.0, 0.1, "lora")


@pytest.mark.parametrize("family, rate", [("glm4", 5e-4), ("llama3", 2e-4), ("qwen2", 2e-4)])
def test_learning_rate_depends_on_the_family(family, rate):
    config = resolve(build_config({}, {**REQUIRED, "family": family}), cuda=False, bf16_supported=False)
    assert config.learning_rate == rate


def test_lora_targets_and_record_style_come_from_the_family_table():
    config = resolve(build_config({}, {**REQUIRED, "family": "llama3"}), cuda=False, bf16_supported=False)
    assert config.target_modules == get_family("llama3").lora_target_modules
    assert config.record_style == get_family("llama3").record_style


def test_cuda_gets_paged_8bit_adamw_and_bf16_cpu_gets_adamw_in_fp32():
    config = build_config({}, REQUIRED)
    on_gpu = resolve(config, cuda=True, bf16_supported=True)
    on_cpu = resolve(config, cuda=False, bf16_supported=False)
    assert (on_gpu.optimizer, on_gpu.bf16) == ("paged_adamw_8bit", True)
    assert (on_cpu.optimizer, on_cpu.bf16) == ("adamw_torch", False)


def test_yaml_and_toml_files_hold_settings_and_the_command_line_wins(tmp_path):
    (tmp_path / "c.yaml").write_text("lora_r: 16\nlearning_rate: 1.0e-4\ntarget_modules: [q_proj]\n")
    (tmp_path / "c.toml").write_text("lora_r = 16\nlearning_rate = 1e-4\n")
    for name in ("c.yaml", "c.toml"):
        settings = load_config_file(tmp_path / name)
        config = build_config(settings, {**REQUIRED, "learning_rate": 3e-4, "lora_alpha": None})
        assert (config.lora_r, config.learning_rate, config.lora_alpha) == (16, 3e-4, 32)
    assert build_config(load_config_file(tmp_path / "c.yaml"), REQUIRED).target_modules == ("q_proj",)


def test_unknown_setting_names_the_file_and_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("lora_rank: 8\n")
    with pytest.raises(UserError, match=r"c\.yaml: unknown setting 'lora_rank'"):
        load_config_file(path)


def test_wrong_type_names_the_file_and_key(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('lora_r = "8"\n')
    with pytest.raises(UserError, match=r"c\.toml: setting 'lora_r' must be int"):
        load_config_file(path)


def test_saved_config_round_trips(tmp_path):
    config = resolve(build_config({}, REQUIRED), cuda=False, bf16_supported=False)
    (tmp_path / "train_config.yaml").write_text(config.to_yaml())
    assert build_config(load_config_file(tmp_path / "train_config.yaml"), {}) == config


def test_run_without_model_is_a_one_line_error():
    result = CliRunner().invoke(main, ["run", "--family", "qwen2", "--out", "adapters/x"])
    assert result.exit_code == 1
    assert result.output == "error: missing setting 'model': pass --model or put it in the config file\n"


def test_qlora_from_a_gguf_file_is_accepted():
    config = build_config({}, {**REQUIRED, "method": "qlora", "gguf_file": "model.gguf"})
    assert (config.method, config.gguf_file) == ("qlora", "model.gguf")


def test_a_time_limit_that_is_not_positive_is_a_one_line_error():
    result = CliRunner().invoke(main, ["run", "--family", "qwen2", "--model", "m", "--out", "x", "--time-limit", "0"])
    assert result.exit_code == 1
    assert result.output == "error: --time-limit must be a positive number of minutes, got 0\n"
