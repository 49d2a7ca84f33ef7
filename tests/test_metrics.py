"""The reference's metrics: BLEU-4 equal to NLTK's, the course's slot counting, wrong-kind rules, sacreBLEU."""

from __future__ import annotations

import math
import random

import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from sacrebleu.metrics import BLEU

from agent.core.turns import AssistantTurn, SearchTurn
from evalharness.metrics import (
    SlotCounts,
    score_sample,
    score_samples,
    search_as_text,
    sentence_bleu4_chars,
    slot_scores,
)


def course_bleu4(reference: str, hypothesis: str) -> float:
    """The course's `_bleu4`, verbatim in behaviour: NLTK on characters, 0 when either side is empty."""
    ref, hyp = list(reference.strip()), list(hypothesis.strip())
    if not ref or not hyp:
        return 0
    return sentence_bleu([ref], hyp, smoothing_function=SmoothingFunction().method3)


def test_bleu_matches_hand_computed_value_without_smoothing():
    # precisions 5/5, 3/4, 2/3, 1/2 and brevity exp(1 - 6/5)
    expected = math.exp(-0.2) * (1 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25
    assert sentence_bleu4_chars("今天天气很好", "今天天气好") == pytest.approx(expected, rel=1e-12)


def test_bleu_smooths_missing_ngrams_with_method3_on_a_two_character_reply():
    # precisions 2/2, 1/1, then no 3- or 4-grams at all: 1/(2*1) and 1/(4*1); brevity exp(1 - 3/2)
    expected = math.exp(-0.5) * (1 * 1 * 0.5 * 0.25) ** 0.25
    assert sentence_bleu4_chars("好的呀", "好的") == pytest.approx(expected, rel=1e-12)


def test_bleu_is_zero_for_an_empty_or_blank_hypothesis():
    assert sentence_bleu4_chars("好的", "") == 0.0
    assert sentence_bleu4_chars("好的", "  \n") == 0.0


def test_bleu_is_one_for_an_identical_reply_after_stripping():
    assert sentence_bleu4_chars(" 推荐北京红驿栈酒店。", "推荐北京红驿栈酒店。\n") == 1.0


def test_bleu_equals_nltk_on_many_random_pairs_including_short_and_empty():
    rng = random.Random(1234)
    alphabet = "酒店好的价格北京推荐您元，。 ab"
    for _ in range(3000):
        reference = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        hypothesis = "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 2, 3, rng.randint(4, 14)])))
        assert sentence_bleu4_chars(reference, hypothesis) == course_bleu4(reference, hypothesis), (
            reference,
            hypothesis,
        )


def test_list_values_count_one_slot_per_item_and_items_are_right_when_in_the_gold_list():
    counts = slot_scores({"facilities": ["无烟房", "免费停车", "健身房"]}, {"facilities": ["健身房", "无烟房"]})
    assert counts["facilities"] == SlotCounts(correct=2, predicted=3, gold=2)


def test_numbers_compare_as_numbers():
    counts = slot_scores({"price_range_upper": 500.0}, {"price_range_upper": 500})
    assert counts["price_range_upper"] == SlotCounts(1, 1, 1)


def test_a_predicted_none_value_counts_as_a_wrong_predicted_slot_as_in_the_course():
    assert slot_scores({"name": None}, {"name": "北京饭店"})["name"] == SlotCounts(0, 1, 1)


def test_a_reply_where_a_search_was_due_predicts_no_slots_and_misses_every_gold_slot():
    scores = score_sample(SearchTurn({"type": "舒适型", "facilities": ["无烟房", "wifi"]}), AssistantTurn("好的"))
    assert sum(scores.slots.values(), SlotCounts()) == SlotCounts(correct=0, predicted=0, gold=3)
    assert scores.wrong_kind and scores.bleu4 is None


def test_a_search_where_a_reply_was_due_is_scored_as_the_course_models_search_text():
    arguments = {"type": "舒适型", "name": None}
    reply = AssistantTurn(search_as_text(arguments))
    assert search_as_text(arguments) == 'search:\n{\n    "type": "舒适型"\n}'
    assert score_sample(reply, SearchTurn(arguments)).bleu4 == 1.0
    assert score_sample(AssistantTurn("好的，为您推荐北京饭店。"), SearchTurn(arguments)).bleu4 == 0.0


def test_slot_scores_are_micro_averaged_over_all_search_samples():
    expected = [SearchTurn({"type": "舒适型"}), SearchTurn({"facilities": ["a", "b", "c"]})]
    predicted = [SearchTurn({"type": "经济型"}), SearchTurn({"facilities": ["a", "b", "c"]})]
    metrics = score_samples(expected, predicted)
    # 3 correct of 4 predicted and 4 gold; a macro average of the two samples would give 0.5
    assert (metrics.slot_precision, metrics.slot_recall) == (0.75, 0.75)
    assert metrics.slot_f1 == pytest.approx(0.75)


def test_per_key_scores_separate_the_argument_keys():
    expected = [SearchTurn({"type": "舒适型", "price_range_upper": 300})]
    predicted = [SearchTurn({"type": "舒适型", "price_range_upper": 400, "rating_range_lower": 4.5})]
    per_key = score_samples(expected, predicted).per_key
    assert per_key["type"] == SlotCounts(1, 1, 1)
    assert per_key["price_range_upper"] == SlotCounts(0, 1, 1)
    assert per_key["rating_range_lower"] == SlotCounts(0, 1, 0)
    assert "name" not in per_key


def test_wrong_kind_counts_both_directions_and_failures_apart():
    expected = [SearchTurn({"type": "舒适型"}), AssistantTurn("好的"), SearchTurn({"name": "x"}), AssistantTurn("再见")]
    predicted = [AssistantTurn("好的"), SearchTurn({"type": "舒适型"}), None, AssistantTurn("再见")]
    metrics = score_samples(expected, predicted)
    assert (metrics.reply_for_search, metrics.search_for_reply, metrics.failed) == (1, 1, 1)
    assert metrics.slots == SlotCounts(correct=0, predicted=0, gold=2)


def test_bleu4_is_the_mean_over_reply_samples_only():
    expected = [AssistantTurn("好的，再见"), AssistantTurn("再见"), SearchTurn({"type": "舒适型"})]
    predicted = [AssistantTurn("好的，再见"), AssistantTurn(""), SearchTurn({"type": "舒适型"})]
    metrics = score_samples(expected, predicted)
    assert metrics.bleu4 == 0.5 and metrics.reply_samples == 2
    assert metrics.as_percent() == {"bleu-4": 50.0, "slot_P": 100.0, "slot_R": 100.0, "slot_F1": 100.0}


def test_sacrebleu_is_corpus_bleu_with_the_chinese_tokenizer_and_its_signature():
    expected = [AssistantTurn("为您推荐北京红驿栈酒店，价格344元。"), AssistantTurn("不客气，祝您入住愉快！")]
    predicted = [AssistantTurn("推荐北京红驿栈酒店，价格是344元。"), SearchTurn({"type": "舒适型"})]
    metrics = score_samples(expected, predicted)
    direct = BLEU(tokenize="zh").corpus_score(
        ["推荐北京红驿栈酒店，价格是344元。", search_as_text({"type": "舒适型"})], [[t.content for t in expected]]
    )
    assert metrics.sacrebleu == pytest.approx(direct.score)
    assert "tok:zh" in metrics.sacrebleu_signature and "version:" in metrics.sacrebleu_signature


def test_a_run_without_reply_samples_still_carries_a_sacrebleu_signature():
    metrics = score_samples([SearchTurn({"type": "舒适型"})], [SearchTurn({"type": "舒适型"})])
    assert metrics.sacrebleu == 0.0 and "tok:zh" in metrics.sacrebleu_signature
