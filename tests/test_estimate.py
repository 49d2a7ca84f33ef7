"""`finetune estimate`: parameter counts from the bundled shapes, and memory that moves the right way."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from finetune.cli import main
from finetune.estimate import GIB, estimate_memory, find_architecture, llama_shaped, parse_count


@pytest.mark.parametrize(
    "model, published",
    [
        ("meta-llama/Llama-3.1-8B-Instruct", 8.03e9),  # model card: 8.03B
        ("Qwen/Qwen2-7B-Instruct", 7.62e9),  # model card: 7.62B (7.07B non-embedding)
        ("THUDM/glm-4-9b-chat", 9.40e9),  # model card: 9.4B
    ],
)
def test_bundled_shapes_give_the_published_parameter_counts(model, published):
    assert find_architecture(model).parameters() == pytest.approx(published, rel=0.01)


def test_family_names_and_short_names_find_the_reference_models():
    assert find_architecture("llama3") == find_architecture("Llama-3.1-8B-Instruct")
    assert find_architecture("qwen2").layers == 28


def test_params_alone_give_a_llama2_shaped_model():
    architecture = llama_shaped(parse_count("7B"))
    assert (architecture.layers, architecture.hidden, architecture.intermediate) == (32, 4096, 11008)


def test_qlora_needs_less_than_lora_which_needs_less_than_full_finetuning():
    architecture = find_architecture("llama3")
    full, lora, qlora = (estimate_memory(architecture, m).total for m in ("full", "lora", "qlora"))
    assert qlora < lora < full


def test_qlora_stores_linear_weights_in_about_half_a_byte_and_the_rest_in_fp32():
    # the recipe's prepare_model_for_kbit_training upcasts embeddings, head and norms to fp32
    architecture = find_architecture("qwen2")
    qlora = estimate_memory(architecture, "qlora")
    quantized = architecture.linear_parameters()
    assert qlora.weights - 4 * architecture.other_parameters() == pytest.approx(0.52 * quantized, rel=0.02)


def test_gradient_checkpointing_cuts_activations_and_nothing_else():
    architecture = find_architecture("glm4")
    plain = estimate_memory(architecture, "lora", seq_len=2048)
    checkpointed = estimate_memory(architecture, "lora", seq_len=2048, gradient_checkpointing=True)
    assert checkpointed.activations < plain.activations / 3
    assert checkpointed.weights == plain.weights


def test_activations_grow_linearly_with_tokens():
    architecture = find_architecture("llama3")
    one = estimate_memory(architecture, "lora", seq_len=512, batch=1).activations
    four = estimate_memory(architecture, "lora", seq_len=512, batch=4).activations
    assert four == pytest.approx(4 * one)


def test_full_finetuning_keeps_sixteen_bytes_per_parameter_before_activations():
    architecture = find_architecture("llama3")
    full = estimate_memory(architecture, "full")
    assert (full.weights + full.gradients + full.optimizer_states) / architecture.parameters() == 16


def test_cli_prints_a_table_with_each_component():
    result = CliRunner().invoke(main, ["estimate", "--model", "qwen2", "--method", "qlora"])
    assert result.exit_code == 0, result.output
    for row in ("parameters", "gradients", "optimizer states", "activations", "total"):
        assert row in result.output
    total = estimate_memory(find_architecture("qwen2"), "qlora").total / GIB
    assert f"{total:.2f}" in result.output


def test_cli_unknown_model_is_one_line_error():
    result = CliRunner().invoke(main, ["estimate", "--model", "gpt-5"])
    assert result.exit_code == 1
    assert result.output.startswith("error: no bundled architecture for 'gpt-5'")
    assert "Traceback" not in result.output
