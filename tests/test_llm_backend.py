"""LLM backends end to end with tiny random models: render → generate → parse, adapters, QLoRA, streaming."""

from __future__ import annotations

import json
import threading

import pytest

from agent.core.errors import UserError
from agent.core.schema import validate_arguments
from agent.core.turns import AssistantTurn, Dialogue, SearchTurn, UserTurn
from backends.llm.adapter_info import AdapterInfo, write_adapter_info
from backends.llm.backend import create_backend
from backends.llm.encoding import IGNORE_INDEX, encode_dialogue
from backends.registry import available
from prompts import RenderSettings, default_settings, template_hash

from tiny_models import save_tiny, tiny_model, tiny_tokenizer

pytest.importorskip("torch")
pytest.importorskip("peft")

ASK = Dialogue((UserTurn("有没有经济型的酒店？"),))
SEARCH = SearchTurn({"type": "经济型"})
DIALOGUES = [ASK, Dialogue((UserTurn("你好，想找一家有无线网络、价格400以内的酒店"),)), Dialogue((UserTurn("谢谢"),))]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from a second thread, and on a shared CPU its spin-waits cost 10x."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {family: save_tiny(family, root / family) for family in ("qwen2", "llama3", "glm4")}


def lora_adapter(tmp_path, family, base_dir, *, method="lora", info=True, overrides=None):
    """A LoRA adapter with non-zero weights (so it changes the logits), saved like finetune saves one."""
    import torch
    from peft import LoraConfig, get_peft_model

    from prompts.families import FAMILIES

    torch.manual_seed(1)
    model = get_peft_model(
        tiny_model(family),
        LoraConfig(
            r=4, lora_alpha=8, target_modules=list(FAMILIES[family].lora_target_modules), init_lora_weights=False
        ),
    )
    adapter = tmp_path / f"{method}-{family}"
    model.save_pretrained(adapter)
    if info:
        fields = dict(
            family=family,
            base_model=str(base_dir),
            method=method,
            template_hash=template_hash(family),
            record_style=default_settings(family).record_style,
        )
        fields.update(overrides or {})
        write_adapter_info(adapter, AdapterInfo(**fields))
    return adapter


def test_every_family_and_method_is_registered():
    names = {e.name for e in available()}
    assert {f"{m}-{f}" for m in ("prompt", "lora", "qlora") for f in ("glm4", "llama3", "qwen2", "smollm2")} <= names


def assert_valid_predictions(predictions, count):
    assert len(predictions) == count
    for prediction in predictions:
        assert isinstance(prediction.turn, (SearchTurn, AssistantTurn)) and prediction.raw is not None
        if isinstance(prediction.turn, SearchTurn):
            assert validate_arguments(prediction.turn.arguments) == prediction.turn.arguments


def test_prompt_backend_renders_generates_and_parses_a_valid_turn(model_dirs):
    backend = create_backend("qwen2", "prompt", model=str(model_dirs["qwen2"]), max_new_tokens=12)
    assert backend.spec.settings.system and "search_hotels" in backend.spec.settings.system
    assert_valid_predictions(backend.predict(DIALOGUES), len(DIALOGUES))


@pytest.mark.parametrize("family", ["qwen2", "llama3", "glm4"])
def test_lora_backend_renders_generates_and_parses_a_valid_turn(model_dirs, tmp_path, family):
    adapter = lora_adapter(tmp_path, family, model_dirs[family])
    backend = create_backend(family, "lora", model=str(model_dirs[family]), adapter=str(adapter), max_new_tokens=12)
    assert_valid_predictions(backend.predict(DIALOGUES), len(DIALOGUES))


def test_batched_generation_equals_one_at_a_time(model_dirs, tmp_path):
    adapter = lora_adapter(tmp_path, "llama3", model_dirs["llama3"])
    backend = create_backend("llama3", "lora", model=str(model_dirs["llama3"]), adapter=str(adapter), max_new_tokens=12)
    batched = [p.raw for p in backend.predict(DIALOGUES)]
    assert batched == [backend.predict([d])[0].raw for d in DIALOGUES]


def test_a_model_trained_on_a_search_generates_and_parses_that_search(tmp_path):
    import torch

    family = "qwen2"
    tokenizer, model = tiny_tokenizer(family), tiny_model(family)
    ids, labels = encode_dialogue(tokenizer, family, ASK.with_turn(SEARCH), add_generation_prompt=False)
    batch = torch.tensor([ids]), torch.tensor([labels])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(60):  # overfit one example: the labels must teach the whole call and the stop token
        optimizer.zero_grad()
        model(input_ids=batch[0], labels=batch[1]).loss.backward()
        optimizer.step()
    model.save_pretrained(tmp_path / "trained")
    tokenizer.save_pretrained(tmp_path / "trained")
    backend = create_backend(
        family,
        "lora",
        model=str(tmp_path / "trained"),
        max_new_tokens=30,
        adapter=str(lora_adapter(tmp_path, family, tmp_path / "trained", info=False)),
    )
    backend.loaded.model.disable_adapter_layers()  # the trained base alone
    prediction = backend.predict([ASK])[0]
    assert prediction.turn == SearchTurn({"type": "经济型"}), prediction.raw
    assert sum(1 for label in labels if label != IGNORE_INDEX) > 3


def test_saving_and_reloading_an_adapter_gives_identical_logits(model_dirs, tmp_path):
    import torch
    from peft import PeftModel

    family = "qwen2"
    adapter = lora_adapter(tmp_path, family, model_dirs[family])
    ids = torch.tensor([encode_dialogue(tiny_tokenizer(family), family, ASK, add_generation_prompt=True)[0]])
    direct = PeftModel.from_pretrained(tiny_model(family), str(adapter)).eval()
    backend = create_backend(family, "lora", model=str(model_dirs[family]), adapter=str(adapter))
    with torch.no_grad():
        assert torch.equal(direct(ids).logits, backend.loaded.model(ids).logits)
        assert not torch.equal(tiny_model(family)(ids).logits, direct(ids).logits)  # the adapter matters


def test_signature_names_base_model_adapter_sha256_and_template_hash(model_dirs, tmp_path):
    adapter = lora_adapter(tmp_path, "qwen2", model_dirs["qwen2"])
    signature = create_backend("qwen2", "lora", model=str(model_dirs["qwen2"]), adapter=str(adapter)).signature()
    assert signature["base_model"] == str(model_dirs["qwen2"]) and signature["adapter"] == str(adapter)
    assert len(signature["adapter_sha256"]) == 64 and signature["template_hash"] == template_hash("qwen2")


def test_qlora_loads_in_4bit_and_generates_on_cpu(model_dirs, tmp_path):
    adapter = lora_adapter(tmp_path, "llama3", model_dirs["llama3"], method="qlora")
    backend = create_backend("llama3", "qlora", model=str(model_dirs["llama3"]), adapter=str(adapter), max_new_tokens=8)
    assert backend.signature()["dtype"].endswith("nf4")
    quantized = [type(m).__name__ for m in backend.loaded.model.modules()]
    assert "Linear4bit" in quantized
    assert isinstance(backend.predict([ASK])[0].turn, (SearchTurn, AssistantTurn))


def test_missing_adapter_is_one_clear_error(model_dirs, tmp_path):
    with pytest.raises(UserError, match="no LoRA adapter in .*pass --adapter DIR"):
        create_backend("qwen2", "lora", model=str(model_dirs["qwen2"]), adapter=str(tmp_path / "none"))


def test_missing_model_directory_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="model directory .*no-such-model does not exist; pass --model"):
        create_backend("qwen2", "prompt", model=str(tmp_path / "no-such-model"))


def test_a_model_directory_that_is_no_model_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="cannot load model .*pass --model"):
        create_backend("qwen2", "prompt", model=str(tmp_path))


def test_an_unreachable_hub_id_fails_fast_with_the_fix(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match="not in the Hugging Face cache and HF_HUB_OFFLINE is set; pass --model"):
        create_backend("qwen2", "prompt", model="no-such-org/no-such-model")


def test_adapter_of_another_family_is_refused(model_dirs, tmp_path):
    adapter = lora_adapter(tmp_path, "qwen2", model_dirs["qwen2"], overrides={"family": "llama3"})
    with pytest.raises(UserError, match="trained for family 'llama3'"):
        create_backend("qwen2", "lora", model=str(model_dirs["qwen2"]), adapter=str(adapter))


def test_adapter_trained_with_another_template_is_refused(model_dirs, tmp_path):
    adapter = lora_adapter(tmp_path, "qwen2", model_dirs["qwen2"], overrides={"template_hash": "0" * 64})
    with pytest.raises(UserError, match="template hash 000000000000"):
        create_backend("qwen2", "lora", model=str(model_dirs["qwen2"]), adapter=str(adapter))


def test_the_adapter_record_style_is_served(model_dirs, tmp_path):
    compact = RenderSettings(record_style="compact")
    adapter = lora_adapter(
        tmp_path,
        "qwen2",
        model_dirs["qwen2"],
        overrides={"record_style": "compact", "template_hash": template_hash("qwen2", compact)},
    )
    backend = create_backend("qwen2", "lora", model=str(model_dirs["qwen2"]), adapter=str(adapter))
    assert backend.spec.settings.record_style == "compact"


def test_reply_text_is_streamed_without_role_or_markup(model_dirs):
    backend = create_backend("glm4", "prompt", model=str(model_dirs["glm4"]), max_new_tokens=10)
    pieces: list[tuple[int, str]] = []
    prediction = backend.predict([ASK], on_text=lambda i, text: pieces.append((i, text)))[0]
    if isinstance(prediction.turn, AssistantTurn):
        streamed = "".join(text for _, text in pieces)
        assert prediction.turn.content.startswith(streamed.strip()) and {i for i, _ in pieces} <= {0}
    assert all("<|" not in text for _, text in pieces)


def test_a_cancel_set_during_generation_stops_it_within_a_step():
    from backends.llm.encoding import stop_token_ids
    from backends.llm.generation import generate_ids

    family = "qwen2"
    tokenizer, cancel = tiny_tokenizer(family), threading.Event()

    class CancelAfterThreeTokens:  # stands in for a user pressing Escape mid-reply
        calls = 0

        def put(self, value):
            self.calls += 1
            if self.calls > 3:  # the first call is the prompt
                cancel.set()

        def end(self):
            pass

    prompt = encode_dialogue(tokenizer, family, ASK, add_generation_prompt=True)[0]
    [output] = generate_ids(
        tiny_model(family),
        [prompt],
        pad_id=0,
        stop_ids=stop_token_ids(tokenizer, family),
        max_new_tokens=40,
        streamer=CancelAfterThreeTokens(),
        cancel=cancel,
    )
    assert len(output) <= 4


def test_a_cancelled_predict_returns_an_empty_reply(model_dirs, tmp_path):
    adapter = lora_adapter(tmp_path, "qwen2", model_dirs["qwen2"])
    backend = create_backend("qwen2", "lora", model=str(model_dirs["qwen2"]), adapter=str(adapter))
    cancel = threading.Event()
    cancel.set()
    prediction = backend.predict([ASK], cancel=cancel)[0]
    assert prediction.raw == "" and prediction.turn == AssistantTurn("")


def test_adapter_info_file_is_plain_json(tmp_path):
    path = write_adapter_info(tmp_path, AdapterInfo("qwen2", "base", "lora", "h", "indent4"))
    assert json.loads(path.read_text())["family"] == "qwen2"


@pytest.mark.parametrize("family", ["llama3", "glm4"])
def test_prefilling_rows_alone_gives_the_same_tokens_as_prefilling_the_padded_batch(family):
    from backends.llm.encoding import stop_token_ids
    from backends.llm.generation import generate_ids

    tokenizer, model = tiny_tokenizer(family), tiny_model(family)
    prompts = [encode_dialogue(tokenizer, family, d, add_generation_prompt=True)[0] for d in DIALOGUES]
    run = {
        mode: generate_ids(
            model, prompts, pad_id=0, stop_ids=stop_token_ids(tokenizer, family), max_new_tokens=10, prefill=mode
        )
        for mode in ("rows", "batch")
    }
    assert run["rows"] == run["batch"]
