"""Training config: defaults < config file (YAML or TOML) < command line, resolved per family and machine."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from agent.core.errors import UserError
from backends.llm.precision import choose_precision
from finetune.cli import main
from finetune.config import build_config, default_of, find_config_file, load_config_file, resolve
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
    assert (on_gpu.optimizer, on_gpu.precision) == ("paged_adamw_8bit", "bf16")
    assert (on_cpu.optimizer, on_cpu.precision) == ("adamw_torch", "fp32")


def test_a_gpu_without_bf16_trains_in_fp16():
    config = resolve(build_config({}, REQUIRED), cuda=True, bf16_supported=False)
    assert config.precision == "fp16"


def test_bf16_asked_for_on_a_gpu_without_it_falls_back_to_fp16_and_says_so():
    choice = choose_precision("bf16", cuda=True, bf16_supported=False)
    assert choice.name == "fp16" and "no bf16" in (choice.note or "")


@pytest.mark.parametrize("asked", ["bf16", "fp16"])
def test_half_precision_asked_for_on_the_cpu_becomes_fp32_and_says_so(asked):
    choice = choose_precision(asked, cuda=False, bf16_supported=False)
    assert choice.name == "fp32" and "CPU" in (choice.note or "")


def test_an_explicit_precision_is_kept_where_the_gpu_can_run_it():
    config = build_config({}, {**REQUIRED, "precision": "fp16"})
    assert resolve(config, cuda=True, bf16_supported=True).precision == "fp16"


def test_an_unknown_precision_is_a_one_line_error():
    with pytest.raises(UserError, match="unknown precision 'half'"):
        build_config({}, {**REQUIRED, "precision": "half"})


def test_defaults_are_memory_safe_for_a_9b_model():
    config = build_config({}, REQUIRED)
    assert (config.batch_size, config.gradient_accumulation_steps) == (1, 4)
    assert config.gradient_checkpointing is True
    assert config.group_by_length is False  # one dialogue per batch: nothing to group, order stays random
    assert config.max_seq_len == 3072


@pytest.mark.parametrize(
    "model_type, targets",
    [
        ("chatglm", ("query_key_value",)),
        ("glm", ("q_proj", "k_proj", "v_proj")),
        (None, ("q_proj", "k_proj", "v_proj")),
    ],
)
def test_glm4_lora_targets_follow_the_checkpoints_layout(model_type, targets):
    config = build_config({}, {**REQUIRED, "family": "glm4"})
    assert resolve(config, cuda=True, bf16_supported=True, model_type=model_type).target_modules == targets


def test_targets_given_in_the_config_win_over_the_layout():
    config = build_config({}, {**REQUIRED, "family": "glm4", "target_modules": ("q_proj",)})
    assert resolve(config, cuda=True, bf16_supported=True, model_type="chatglm").target_modules == ("q_proj",)


def test_a_config_saved_before_precision_existed_still_loads(tmp_path):
    path = tmp_path / "train_config.yaml"
    path.write_text("bf16: false\nlora_r: 8\n")
    assert load_config_file(path) == {"precision": "fp32", "lora_r": 8}


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


def test_run_help_shows_the_defaults_trainconfig_defines():
    help_text = " ".join(CliRunner().invoke(main, ["run", "--help"]).output.split())
    for option, name in [
        ("--batch-size", "batch_size"),
        ("--max-seq-len", "max_seq_len"),
        ("--save-steps", "save_steps"),
    ]:
        assert option in help_text
        assert f"[default: {default_of(name)}]" in help_text
    assert "[default: on]" in help_text  # gradient checkpointing


def test_the_top_level_help_names_smollm2_and_shows_an_example():
    output = CliRunner().invoke(main, ["--help"]).output
    assert "SmolLM2" in output
    assert "finetune run --config smollm2-135m-lora" in output


def test_a_bundled_config_is_found_by_its_name():
    assert find_config_file("glm4-9b-qlora").name == "glm4-9b-qlora.yaml"
    assert find_config_file("glm4-9b-qlora.yaml") == find_config_file("glm4-9b-qlora")


def test_an_unknown_config_name_lists_the_bundled_ones():
    with pytest.raises(UserError, match="no such config file .*glm4-9b-qlora.*smollm2-135m-lora"):
        find_config_file("glm5-qlora")


def test_an_old_transformers_is_a_one_line_error_naming_the_needed_release():
    from backends.llm.versions import require_transformers

    with pytest.raises(
        UserError, match=r"transformers 4\.44\.2 is installed but hotel-agent needs transformers>=5\.6,<6"
    ):
        require_transformers("4.44.2")
    require_transformers("5.6.0")  # the oldest the suite passes with (docs/install.md)


def test_run_refuses_an_old_transformers_before_loading_anything(monkeypatch):
    import importlib.metadata

    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "4.44.2" if name == "transformers" else real(name))
    result = CliRunner().invoke(main, ["run", "--family", "qwen2", "--model", "m", "--out", "x"])
    assert result.exit_code == 1
    assert result.output.startswith("error: transformers 4.44.2 is installed")
