"""`finetune shrink`: a LoRA adapter cut to a lower rank by truncated SVD of each projection's update."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file, save_file

from agent.core.errors import UserError
from backends.llm.adapter_info import AdapterInfo, read_adapter_info, write_adapter_info
from finetune.cli import main
from finetune.shrink import shrink_adapter

PREFIX = "base_model.model.model.layers.0.self_attn"


def make_adapter(directory: Path, *, rank: int = 8, alpha: int = 32, seed: int = 0) -> dict[str, torch.Tensor]:
    """Two projections (q 16→16, v 16→8) at `rank`, with an AdapterInfo record like finetune writes."""
    generator = torch.Generator().manual_seed(seed)
    tensors = {}
    for module, out_features in (("q_proj", 16), ("v_proj", 8)):
        tensors[f"{PREFIX}.{module}.lora_A.weight"] = torch.randn(rank, 16, generator=generator)
        tensors[f"{PREFIX}.{module}.lora_B.weight"] = torch.randn(out_features, rank, generator=generator)
    directory.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(directory / "adapter_model.safetensors"))
    config = {"r": rank, "lora_alpha": alpha, "peft_type": "LORA", "target_modules": ["q_proj", "v_proj"]}
    (directory / "adapter_config.json").write_text(json.dumps(config), encoding="utf-8")
    write_adapter_info(
        directory,
        AdapterInfo(family="smollm2", base_model="tiny", method="lora", template_hash="h", record_style="compact"),
    )
    return tensors


def update(tensors: dict[str, torch.Tensor], module: str, scale: float) -> torch.Tensor:
    a = tensors[f"{PREFIX}.{module}.lora_A.weight"].double()
    b = tensors[f"{PREFIX}.{module}.lora_B.weight"].double()
    return scale * b @ a


def test_the_shrunk_update_is_the_best_approximation_at_the_new_rank(tmp_path):
    old = make_adapter(tmp_path / "r8")
    shrink_adapter(tmp_path / "r8", tmp_path / "r3", rank=3)
    new = load_file(str(tmp_path / "r3" / "adapter_model.safetensors"))
    for module in ("q_proj", "v_proj"):
        full = update(old, module, 32 / 8)
        u, s, vh = torch.linalg.svd(full, full_matrices=False)
        best = u[:, :3] @ torch.diag(s[:3]) @ vh[:3]
        assert torch.allclose(update(new, module, 12 / 3), best, atol=1e-4)


def test_an_update_of_low_rank_survives_shrinking_exactly(tmp_path):
    old = make_adapter(tmp_path / "r8")
    # make every update rank 2: only the first two directions of A carry anything
    for name in list(old):
        if ".lora_A." in name:
            old[name][2:] = 0
    save_file(old, str(tmp_path / "r8" / "adapter_model.safetensors"))
    report = shrink_adapter(tmp_path / "r8", tmp_path / "r2", rank=2)
    new = load_file(str(tmp_path / "r2" / "adapter_model.safetensors"))
    assert torch.allclose(update(new, "q_proj", 8 / 2), update(old, "q_proj", 32 / 8), atol=1e-4)
    assert report.energy_kept == pytest.approx(1.0)


def test_the_new_factors_have_the_new_rank_and_the_old_scale(tmp_path):
    make_adapter(tmp_path / "r8")
    shrink_adapter(tmp_path / "r8", tmp_path / "r3", rank=3)
    new = load_file(str(tmp_path / "r3" / "adapter_model.safetensors"))
    assert new[f"{PREFIX}.q_proj.lora_A.weight"].shape == (3, 16)
    assert new[f"{PREFIX}.v_proj.lora_B.weight"].shape == (8, 3)
    config = json.loads((tmp_path / "r3" / "adapter_config.json").read_text(encoding="utf-8"))
    assert (config["r"], config["lora_alpha"]) == (3, 12)


def test_the_factors_share_the_update_evenly_so_training_can_continue(tmp_path):
    make_adapter(tmp_path / "r8")
    shrink_adapter(tmp_path / "r8", tmp_path / "r3", rank=3)
    new = load_file(str(tmp_path / "r3" / "adapter_model.safetensors"))
    a, b = new[f"{PREFIX}.q_proj.lora_A.weight"], new[f"{PREFIX}.q_proj.lora_B.weight"]
    assert torch.allclose(a.norm(dim=1), b.norm(dim=0), rtol=1e-4)


def test_the_record_says_where_the_weights_came_from(tmp_path):
    make_adapter(tmp_path / "r8")
    shrink_adapter(tmp_path / "r8", tmp_path / "r3", rank=3)
    info = read_adapter_info(tmp_path / "r3")
    assert info is not None and info.family == "smollm2"
    shrunk = info.extra["shrunk"]
    assert (shrunk["from_rank"], shrunk["rank"], shrunk["alpha"]) == (8, 3, 12)
    assert 0 < shrunk["lowest_energy_kept"] <= shrunk["energy_kept"] < 1


def test_the_weights_keep_their_precision(tmp_path):
    old = make_adapter(tmp_path / "r8")
    save_file({k: v.to(torch.bfloat16) for k, v in old.items()}, str(tmp_path / "r8" / "adapter_model.safetensors"))
    shrink_adapter(tmp_path / "r8", tmp_path / "r3", rank=3)
    new = load_file(str(tmp_path / "r3" / "adapter_model.safetensors"))
    assert {t.dtype for t in new.values()} == {torch.bfloat16}


@pytest.mark.parametrize("rank", [0, 8, 9])
def test_a_rank_that_does_not_shrink_is_refused(tmp_path, rank):
    make_adapter(tmp_path / "r8")
    with pytest.raises(UserError, match="from 1 to 7"):
        shrink_adapter(tmp_path / "r8", tmp_path / "out", rank=rank)


def test_shrinking_in_place_is_refused_and_the_adapter_kept(tmp_path):
    make_adapter(tmp_path / "r8")
    before = (tmp_path / "r8" / "adapter_model.safetensors").read_bytes()
    with pytest.raises(UserError, match="another directory"):
        shrink_adapter(tmp_path / "r8", tmp_path / "r8", rank=3)
    assert (tmp_path / "r8" / "adapter_model.safetensors").read_bytes() == before


def test_a_directory_without_an_adapter_is_one_line_error(tmp_path):
    result = CliRunner().invoke(
        main, ["shrink", "--adapter", str(tmp_path), "--rank", "2", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code != 0
    assert "no adapter_model.safetensors" in result.output
    assert "Traceback" not in result.output


def test_the_command_reports_sizes_and_energy_kept(tmp_path):
    make_adapter(tmp_path / "r8")
    result = CliRunner().invoke(
        main, ["shrink", "--adapter", str(tmp_path / "r8"), "--rank", "3", "--out", str(tmp_path / "r3")]
    )
    assert result.exit_code == 0, result.output
    assert "rank 8 → 3" in result.output and "energy kept" in result.output
