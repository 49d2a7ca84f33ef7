"""agent.core.facilities: phrases learned from the training searches, the similarity fallback, unmapped phrases."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.core.facilities import FacilityMap, Observation, learn_phrase_map, load_facility_map, similarity
from agent.core.store import HotelStore

WIFI = ("公共区域和部分房间提供wifi", "酒店各处提供wifi", "部分房间提供wifi", "公共区域提供wifi", "所有房间提供wifi")


@pytest.fixture(scope="module")
def facility_map() -> FacilityMap:
    return HotelStore.open().facility_map


@pytest.mark.parametrize(
    "phrase, facility",
    [
        ("全天供应热水", "24小时热水"),
        ("国际电话服务", "国际长途电话"),
        ("无障碍设施", "残疾人设施"),
        ("开会的地方", "会议室"),
        ("付费停车位", "收费停车位"),
        ("西餐厅", "西式餐厅"),
        ("提供wifi的区域包括公共区域和一些房间", "公共区域和部分房间提供wifi"),
    ],
)
def test_training_phrase_maps_to_its_database_facility(facility_map: FacilityMap, phrase: str, facility: str):
    assert facility_map.map(phrase) == (facility,)


def test_database_name_maps_to_itself(facility_map: FacilityMap):
    assert facility_map.map("棋牌室") == ("棋牌室",)
    assert facility_map.map(" SPA ") == ("SPA",)


def test_generic_unseen_phrase_maps_to_every_facility_it_covers(facility_map: FacilityMap):
    assert set(facility_map.map("无线网络")) == set(WIFI)


@pytest.mark.parametrize(
    "phrase, facility",
    [
        ("能打国际长途", "国际长途电话"),
        ("游泳池在室内", "室内游泳池"),
        ("吹风器", "吹风机"),
    ],
)
def test_unseen_phrase_falls_back_to_the_most_similar_known_phrase(
    facility_map: FacilityMap, phrase: str, facility: str
):
    assert facility in facility_map.map(phrase)


def test_phrase_close_to_nothing_maps_to_nothing(facility_map: FacilityMap):
    assert facility_map.map("宠物乐园") == ()
    assert facility_map.map("   ") == ()


def test_similarity_ignores_order_and_weighs_filler_little():
    assert similarity("游泳池在室内", "室内游泳池") > 0.9
    assert similarity("叫醒服务", "洗衣服务") < similarity("叫醒服务", "唤醒服务")


def test_learning_prefers_the_facility_present_in_every_search_over_common_ones():
    hotels = [frozenset({"24小时热水", "吹风机", "暖气"})] * 2 + [frozenset({"24小时热水", "吹风机"})] * 18
    searches = [Observation(("取暖",), (hotels[0], hotels[1]))] * 3
    assert learn_phrase_map(searches, hotels) == {"取暖": ("暖气",)}


def test_a_facility_missing_from_several_searches_loses_to_one_always_there():
    rare, common = frozenset({"桑拿", "酒吧"}), frozenset({"酒吧"})
    hotels = [rare] * 2 + [common] * 3 + [frozenset({"吹风机"})] * 15
    searches = [Observation(("有酒馆",), (rare,))] + [Observation(("有酒馆",), (common,))] * 3
    assert learn_phrase_map(searches, hotels) == {"有酒馆": ("酒吧",)}


def test_learned_map_is_cached_under_the_training_files_sha(own_cache: Path, tmp_path: Path, data_dir: Path):
    hotels = [frozenset(r["facilities"]) for r in HotelStore.open(learn_facilities=False).records()]
    train = tmp_path / "train.glm4.jsonl"
    lines = (data_dir / "hotel" / "train.glm4.jsonl").read_text(encoding="utf-8").splitlines()
    train.write_text("\n".join(lines[:400]) + "\n", encoding="utf-8")
    first = load_facility_map(hotels, train, own_cache)
    assert (own_cache / "facility_map.json").is_file()
    assert load_facility_map(hotels, train, own_cache).learned == first.learned

    train.write_text("\n".join(lines[:40]) + "\n", encoding="utf-8")  # another file: relearned, not served stale
    assert load_facility_map(hotels, train, own_cache).learned != first.learned


def test_without_training_data_only_names_and_similarity_are_used():
    names = FacilityMap(("24小时热水", "吹风机"))
    assert names.map("吹风机") == ("吹风机",) and names.map("24小时有热水") == ("24小时热水",)
