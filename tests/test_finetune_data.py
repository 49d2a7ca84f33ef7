"""Training sequences: one per dialogue, loss exactly on what the model writes, padding that costs nothing."""

from __future__ import annotations

import json
from itertools import islice

import pytest

from agent.core.codecs import dialogue_to_samples, read_dialogues
from agent.core.turns import AssistantTurn, Dialogue, ReturnTurn, SearchTurn, UserTurn
from backends.llm.encoding import IGNORE_INDEX, encode_dialogue
from finetune.data import PaddingCollator, encode_for_training, load_examples

from tiny_models import tiny_tokenizer

TRAINED_FAMILIES = ("glm4", "llama3", "qwen2")

DIALOGUE = Dialogue(
    (
        UserTurn("有没有价格不超过400的酒店？"),
        SearchTurn({"price_range_upper": 400}),
        ReturnTurn([{"name": "北京如家酒店", "type": "经济型", "price": 350, "rating": 4.5}]),
        AssistantTurn("为您找到北京如家酒店，价格350元。"),
        UserTurn("评分4.5以上的呢？"),
        SearchTurn({"price_range_upper": 400, "rating_range_lower": 4.5}),
        UserTurn("算了，谢谢"),
        AssistantTurn("不客气！"),
    )
)


def expected_spans(family: str, dialogue: Dialogue) -> list[str]:
    """What each family's model writes for its turns, spelled out here independently of the templates:
    the role it opens (ChatML, Llama-3) or the call prefix (GLM-4), the content, and the token that ends it."""
    spans = []
    turns = list(dialogue)
    for i, turn in enumerate(turns):
        if not isinstance(turn, (SearchTurn, AssistantTurn)):
            continue
        if family == "glm4":
            body = (
                "search_hotels\n" + json.dumps(turn.arguments, ensure_ascii=False)
                if isinstance(turn, SearchTurn)
                else turn.content
            )
            following = turns[i + 1].role if i + 1 < len(turns) else None
            stop = {"user": "<|user|>", "return": "<|observation|>", None: "<|endoftext|>"}[following]
            spans.append("\n" + body + stop)
            continue
        body = (
            json.dumps(turn.arguments, ensure_ascii=False, indent=4) if isinstance(turn, SearchTurn) else turn.content
        )
        if family == "qwen2":
            spans.append(f"{turn.role}\n{body}<|im_end|>")
        else:
            spans.append(f"{turn.role}<|end_header_id|>\n\n{body}<|eot_id|>")
    return spans


def trained_spans(tokenizer, input_ids: list[int], labels: list[int]) -> list[str]:
    """Decode each maximal run of positions that carry a label."""
    spans, run = [], []
    for token, label in zip(input_ids, labels):
        if label != IGNORE_INDEX:
            assert label == token
            run.append(token)
        elif run:
            spans.append(run)
            run = []
    if run:
        spans.append(run)
    return [tokenizer.decode(span, skip_special_tokens=False, clean_up_tokenization_spaces=False) for span in spans]


@pytest.mark.parametrize("family", TRAINED_FAMILIES)
def test_unmasked_labels_decode_to_exactly_the_model_output_spans(family):
    tokenizer = tiny_tokenizer(family)
    input_ids, labels = encode_dialogue(tokenizer, family, DIALOGUE, add_generation_prompt=False)
    assert trained_spans(tokenizer, input_ids, labels) == expected_spans(family, DIALOGUE)


@pytest.mark.parametrize("family", TRAINED_FAMILIES)
def test_real_training_dialogues_train_every_search_and_reply_and_nothing_else(family, data_dir):
    tokenizer = tiny_tokenizer(family)
    for dialogue in islice(read_dialogues(data_dir / "hotel" / "train.glm4.jsonl"), 200, 230):
        input_ids, labels, shortened = encode_for_training(tokenizer, family, dialogue, None, 4096)
        assert not shortened
        assert trained_spans(tokenizer, input_ids, labels) == expected_spans(family, dialogue)


def test_one_sequence_per_dialogue_processes_far_fewer_tokens_than_one_sample_per_turn(data_dir):
    tokenizer = tiny_tokenizer("qwen2")
    long_ones = (d for d in read_dialogues(data_dir / "hotel" / "train.glm4.jsonl") if len(d) >= 8)
    dialogues = list(islice(long_ones, 20))
    per_dialogue = sum(len(encode_dialogue(tokenizer, "qwen2", d, add_generation_prompt=False)[0]) for d in dialogues)
    per_turn = sum(
        len(encode_dialogue(tokenizer, "qwen2", s.context.with_turn(s.response), add_generation_prompt=False)[0])
        for d in dialogues
        for s in dialogue_to_samples(d)
    )
    assert per_turn > 2 * per_dialogue


def test_a_dialogue_too_long_is_cut_after_its_last_model_turn_that_fits():
    tokenizer = tiny_tokenizer("qwen2")
    full, _ = encode_dialogue(tokenizer, "qwen2", DIALOGUE, add_generation_prompt=False)
    first_reply = DIALOGUE[:4]
    reply_ids, _ = encode_dialogue(tokenizer, "qwen2", first_reply, add_generation_prompt=False)
    input_ids, labels, shortened = encode_for_training(tokenizer, "qwen2", DIALOGUE, None, len(full) - 1)
    assert shortened
    assert input_ids == encode_dialogue(tokenizer, "qwen2", DIALOGUE[:6], add_generation_prompt=False)[0]
    input_ids, _, _ = encode_for_training(tokenizer, "qwen2", DIALOGUE, None, len(reply_ids))
    assert input_ids == reply_ids


def test_a_dialogue_whose_first_model_turn_does_not_fit_is_dropped(tmp_path):
    from agent.core.codecs import dialogue_to_json_line

    path = tmp_path / "train.glm4.jsonl"
    path.write_text(
        dialogue_to_json_line(DIALOGUE) + "\n" + dialogue_to_json_line(DIALOGUE[:1]) + "\n", encoding="utf-8"
    )
    encoded = load_examples(tiny_tokenizer("qwen2"), "qwen2", path, max_seq_len=8)
    assert (len(encoded.examples), encoded.dropped) == (0, 2)


def test_padding_gets_no_attention_and_no_loss():
    batch = PaddingCollator(pad_token_id=0)(
        [
            {"input_ids": [5, 6, 7], "labels": [-100, 6, 7]},
            {"input_ids": [8], "labels": [8]},
        ]
    )
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [8, -100, -100]]
