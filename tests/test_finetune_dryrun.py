"""The reference runs, checked on the real architectures without weights: each bundled config holds the course's
settings, its memory estimate fits the GPU it is meant for, and `finetune run --dry-run` builds the published
model shape on the meta device, finds every LoRA target and counts what PEFT would train."""

from __future__ import annotations

import re
from functools import cache

import pytest
from click.testing import CliRunner

from agent.core.errors import UserError
from finetune.cli import main
from finetune.config import BUNDLED_CONFIGS, build_config, load_config_file
from finetune.dryrun import BUILT, COMPUTED, dry_run
from finetune.estimate import GIB, find_architecture

REFERENCE_CONFIGS = ("glm4-9b-qlora", "llama3.1-8b-qlora", "qwen2-7b-lora", "smollm2-135m-lora")
# the project's own runs beyond the course's
OWN_CONFIGS = ("smollm2-135m-augment-pilot", "smollm2-135m-augment", "smollm2-135m-augment-3")
ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
QKV = ("q_proj", "k_proj", "v_proj")


def bundled(name: str) -> dict:
    return load_config_file(BUNDLED_CONFIGS / f"{name}.yaml")


@cache
def checked(name: str, model: str | None = None, targets: tuple[str, ...] | None = None):
    """The dry run of a bundled config (cached: each builds a 7-9B model shape on the meta device)."""
    overrides = {k: v for k, v in (("model", model), ("target_modules", targets)) if v is not None}
    settings = {"out": "(dry run)", "model": "smollm2", **bundled(name)}
    return dry_run(build_config(settings, overrides))


def test_every_file_in_finetune_configs_is_a_reference_run_or_one_of_the_projects_own():
    assert sorted(p.stem for p in BUNDLED_CONFIGS.glob("*.yaml")) == sorted(REFERENCE_CONFIGS + OWN_CONFIGS)


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "glm4-9b-qlora",
            dict(method="qlora", learning_rate=5e-4, gradient_accumulation_steps=1, precision="bf16", max_seq_len=3073),
        ),
        (
            "llama3.1-8b-qlora",
            dict(
                method="qlora", learning_rate=2e-4, gradient_accumulation_steps=4, precision="fp16", target_modules=QKV
            ),
        ),
        (
            "qwen2-7b-lora",
            dict(
                method="lora",
                learning_rate=2e-4,
                gradient_accumulation_steps=4,
                optimizer="adamw_torch",
                warmup_ratio=0.0,
            ),
        ),
    ],
)
def test_a_reference_config_holds_the_courses_hyperparameters(name, expected):
    config = build_config(bundled(name), {})
    assert (config.lora_r, config.lora_alpha, config.lora_dropout) == (8, 32, 0.1)
    assert (config.num_epochs, config.batch_size, config.gradient_checkpointing) == (2.0, 1, True)
    assert {key: getattr(config, key) for key in expected} == expected


def test_the_qlora_runs_use_paged_8bit_adamw_and_double_quantized_nf4():
    for name in ("glm4-9b-qlora", "llama3.1-8b-qlora"):
        config = build_config(bundled(name), {})
        assert (config.optimizer, config.quant_type, config.double_quant) == ("paged_adamw_8bit", "nf4", True)


def estimated_gib(name: str) -> float:
    result = CliRunner().invoke(main, ["estimate", "--config", name])
    assert result.exit_code == 0, result.output
    return float(re.search(r"^total\s+([\d.]+)", result.output, re.M).group(1))


@pytest.mark.parametrize("name", ["glm4-9b-qlora", "llama3.1-8b-qlora"])
def test_the_qlora_configs_fit_a_24_gb_gpu(name):
    assert estimated_gib(name) * GIB < 24e9


def test_the_estimate_of_a_config_uses_its_sequence_length_and_batch():
    # qwen2's config: LoRA on a bf16 base, 3072 tokens × batch 1, checkpointed
    qwen2 = estimated_gib("qwen2-7b-lora")
    longer = CliRunner().invoke(main, ["estimate", "--config", "qwen2-7b-lora", "--seq-len", "6144"]).output
    assert float(re.search(r"^total\s+([\d.]+)", longer, re.M).group(1)) > qwen2


def test_llama_3_1_8b_with_r8_on_q_and_v_trains_the_reference_3_407_872_parameters():
    run = checked("llama3.1-8b-qlora", targets=("q_proj", "v_proj"))
    assert (run.trainable, run.counted_by) == (3_407_872, BUILT)
    assert run.total == 8_033_669_120  # PEFT's "all params": 8.03B base + the adapter


@pytest.mark.parametrize(
    "name, model, targets, trainable",
    [
        ("llama3.1-8b-qlora", None, QKV, 4_718_592),
        ("llama3.1-8b-qlora", "meta-llama/Meta-Llama-3-8B-Instruct", QKV, 4_718_592),
        ("qwen2-7b-lora", None, QKV, 3_440_640),
        ("glm4-9b-qlora", None, QKV, 5_406_720),  # glm-4-9b-chat-hf: the split form of the fused projection
        ("smollm2-135m-lora", None, ("q_proj", "v_proj"), 460_800),
        ("smollm2-135m-augment-pilot", None, ALL_LINEAR, 2_442_240),
        ("smollm2-135m-augment", None, ALL_LINEAR, 915_840),  # rank 3
        ("smollm2-135m-augment-3", None, ALL_LINEAR, 915_840),
    ],
)
def test_each_reference_model_is_built_on_the_meta_device_with_every_target_found(name, model, targets, trainable):
    run = checked(name, model)
    assert run.config.target_modules == targets
    assert run.target_counts == {t: run.architecture.layers for t in targets}
    assert (run.trainable, run.counted_by) == (trainable, BUILT)


@pytest.mark.parametrize(
    "name, model",
    [("llama3.1-8b-qlora", None), ("qwen2-7b-lora", None), ("glm4-9b-qlora", None), ("smollm2-135m-lora", None)],
)
def test_the_estimates_shapes_give_exactly_what_peft_counts_on_the_built_model(name, model):
    run = checked(name, model)
    assert run.formula == run.trainable
    assert run.architecture.parameters() + run.trainable == run.total


@pytest.mark.parametrize("name", ["smollm2-135m-augment", "smollm2-135m-augment-3"])
def test_the_augment_runs_bf16_adapter_fits_the_2_mb_a_committed_file_may_weigh(name):
    run = checked(name)
    assert run.config.adapter_dtype == "bf16"
    assert run.trainable * 2 <= 2_000_000


def test_the_augment_run_starts_from_the_pilot_cut_to_its_rank():
    pilot, run = checked("smollm2-135m-augment-pilot"), checked("smollm2-135m-augment")
    assert run.config.init_adapter == "runs/pilot1-r3" and pilot.config.out == "runs/pilot1"
    assert run.config.lora_alpha / run.config.lora_r == pilot.config.lora_alpha / pilot.config.lora_r


def test_the_third_slice_continues_the_second_at_its_rank_and_scale_on_other_samples():
    second, third = checked("smollm2-135m-augment"), checked("smollm2-135m-augment-3")
    assert third.config.init_adapter == second.config.out
    assert (third.config.lora_r, third.config.lora_alpha) == (second.config.lora_r, second.config.lora_alpha)
    assert third.config.seed not in (42, second.config.seed)


def test_glm_4_9b_chat_with_its_own_code_is_computed_from_config_json_on_the_fused_projection():
    run = checked("glm4-9b-qlora", "THUDM/glm-4-9b-chat")
    assert run.remote_code and run.counted_by == COMPUTED
    assert run.config.target_modules == ("query_key_value",)
    # num_layers × r × (hidden + q + 2·kv) = 40 × 8 × (4096 + 4608)
    assert run.trainable == 2_785_280
    assert run.total == 9_399_951_360 + 2_785_280  # the same weights as the -hf layout's base


def test_the_dry_run_command_prints_targets_parameters_and_whether_it_fits():
    result = CliRunner().invoke(
        main, ["run", "--config", "glm4-9b-qlora", "--model", "THUDM/glm-4-9b-chat", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "needs --trust-remote-code" in result.output
    assert "query_key_value × 40" in result.output
    assert "trainable parameters: 2,785,280" in result.output and "computed from config.json" in result.output
    assert "24 GB yes" in result.output


def test_a_target_the_layout_lacks_is_a_one_line_error_naming_what_it_has():
    with pytest.raises(UserError, match=r"target_modules \['query_key_value'\] are not in glm-4-9b-chat-hf .*q_proj"):
        checked("glm4-9b-qlora", targets=("query_key_value",))


def test_a_model_of_another_family_is_refused_before_anything_is_built():
    result = CliRunner().invoke(main, ["run", "--dry-run", "--family", "qwen2", "--model", "THUDM/glm-4-9b-chat-hf"])
    assert result.exit_code == 1
    assert result.output.startswith("error: glm-4-9b-chat-hf is model_type 'glm', not a qwen2 layout")


def test_every_familys_default_model_has_a_bundled_shape_of_one_of_its_layouts():
    from prompts.families import FAMILIES

    for family in FAMILIES.values():
        model_type = find_architecture(family.default_model).model_type
        assert any(model_type in layout.model_types for layout in family.layouts), family.name
