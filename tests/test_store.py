"""HotelStore: the TinyDB build, course-format records, and each search rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agent.core import datafiles
from agent.core.bookings import Bookings
from agent.core.codecs import read_dialogues
from agent.core.errors import ArgumentError, UserError
from agent.core.places import LISTED, SAME_STATION, place_index
from agent.core.store import STORE_FILE, HotelStore, has_price
from agent.core.turns import ReturnTurn

WIFI = {"公共区域和部分房间提供wifi", "酒店各处提供wifi", "部分房间提供wifi", "公共区域提供wifi", "所有房间提供wifi"}


@pytest.fixture(scope="module")
def store() -> HotelStore:
    return HotelStore.open()


def ids(result) -> list[int]:
    return [r["hotel_id"] for r in result.records]


# --- records --------------------------------------------------------------------------------------------


def test_records_are_byte_identical_to_the_courses_observations(store: HotelStore, data_dir: Path):
    compared = 0
    for dialogue in read_dialogues(data_dir / "hotel" / "dev.glm4.jsonl"):
        for turn in dialogue:
            if isinstance(turn, ReturnTurn) and turn.records and isinstance(turn.records[0]["facilities"], list):
                ours = [store.get(r["hotel_id"]) for r in turn.records]
                assert json.dumps(ours, ensure_ascii=False) == json.dumps(turn.records, ensure_ascii=False)
                compared += 1
    assert compared > 100


def test_hotel_without_price_has_price_minus_one(store: HotelStore):
    assert store.get(24)["name"] == "北京龙鼎华鼎云酒店"
    assert store.get(24)["price"] == -1.0 and not has_price(store.get(24))


def test_blank_facility_entries_of_the_source_are_dropped(store: HotelStore):
    assert all(f.strip() for r in store.records() for f in r["facilities"])


def test_records_are_copies(store: HotelStore):
    store.get(0)["facilities"].append("温泉")
    store.records()[0]["name"] = "x"
    assert "温泉" not in store.get(0)["facilities"] and store.get(0)["name"] == "北京贵都大酒店"


def test_unknown_hotel_id_is_a_user_error(store: HotelStore):
    with pytest.raises(UserError, match="no hotel with id 5000"):
        store.get(5000)


# --- building -----------------------------------------------------------------------------------------


def _data_copy(tmp_path: Path, data_dir: Path) -> Path:
    copy = tmp_path / "data"
    (copy / "crosswoz").mkdir(parents=True)
    shutil.copy(data_dir / datafiles.HOTEL_DB, copy / datafiles.HOTEL_DB)
    return copy


def test_second_open_does_not_rewrite_the_store(own_cache: Path):
    HotelStore.open(learn_facilities=False)
    before = (own_cache / STORE_FILE).stat().st_mtime_ns
    HotelStore.open(learn_facilities=False)
    assert (own_cache / STORE_FILE).stat().st_mtime_ns == before


def test_changed_source_rebuilds_hotels_and_keeps_bookings(
    own_cache: Path, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    data = _data_copy(tmp_path, data_dir)
    monkeypatch.setenv("HOTEL_AGENT_DATA", str(data))
    booking = Bookings(HotelStore.open(learn_facilities=False)).book(3, guest="王五")
    source = json.loads((data / datafiles.HOTEL_DB).read_text(encoding="utf-8"))
    source[3][1]["评分"] = 1.5
    (data / datafiles.HOTEL_DB).write_text(json.dumps(source, ensure_ascii=False), encoding="utf-8")

    reopened = HotelStore.open(learn_facilities=False)
    assert reopened.get(3)["rating"] == 1.5
    assert Bookings(reopened).list() == [booking]


def test_store_file_records_the_source_sha256(own_cache: Path, data_dir: Path):
    HotelStore.open(learn_facilities=False)
    text = (own_cache / STORE_FILE).read_text(encoding="utf-8")
    assert datafiles.sha256_of(data_dir / datafiles.HOTEL_DB) in text


# --- search rules ---------------------------------------------------------------------------------------


def test_type_is_equal(store: HotelStore):
    result = store.search({"type": "豪华型"})
    assert result.records and {r["type"] for r in result.records} == {"豪华型"}
    assert len(result.records) == sum(1 for r in store.records() if r["type"] == "豪华型")


def test_price_range_is_inclusive(store: HotelStore):
    price = store.get(0)["price"]
    assert 0 in ids(store.search({"price_range_lower": price, "price_range_upper": price}))


def test_rating_range_is_inclusive(store: HotelStore):
    rating = store.get(0)["rating"]
    result = store.search({"rating_range_lower": rating, "rating_range_upper": rating})
    assert 0 in ids(result) and {r["rating"] for r in result.records} == {rating}


def test_hotel_without_price_is_excluded_only_by_a_price_bound(store: HotelStore):
    assert 24 in ids(store.search({"type": "舒适型"}))
    assert 24 not in ids(store.search({"type": "舒适型", "price_range_lower": 0}))


def test_short_name_finds_the_full_name(store: HotelStore):
    assert [r["name"] for r in store.search({"name": "瑞洁宾舍民宿"}).records] == ["北京瑞洁宾舍民宿"]


def test_chain_name_finds_every_hotel_of_the_chain(store: HotelStore):
    names = [r["name"] for r in store.search({"name": "汉庭"}).records]
    assert len(names) == sum(1 for r in store.records() if "汉庭" in r["name"]) > 10


def test_name_without_city_or_with_gaps_is_found(store: HotelStore):
    assert [r["name"] for r in store.search({"name": "和颐酒店前门店"}).records] == ["和颐酒店北京前门店"]
    assert [r["name"] for r in store.search({"name": "山西大厦"}).records] == ["北京山西(金辇)大厦"]


def test_unknown_name_finds_nothing_and_is_not_relaxed(store: HotelStore):
    result = store.search({"name": "火星大酒店", "type": "经济型"})
    assert result.records == [] and result.relaxed == ()


def test_find_by_name_resolves_a_sentence_naming_a_hotel(store: HotelStore):
    assert [r["name"] for r in store.find_by_name("我决定入住北京万寿宾馆")] == ["北京万寿宾馆"]


def test_every_facility_phrase_must_be_offered(store: HotelStore):
    result = store.search({"facilities": ["无线网络", "室内游泳池"]})
    assert result.records and result.relaxed == ()
    for record in result.records:
        assert WIFI & set(record["facilities"]) and "室内游泳池" in record["facilities"]


def test_colloquial_facility_phrase_uses_the_learned_map(store: HotelStore):
    result = store.search({"facilities": ["全天供应热水"]})
    assert result.records and all("24小时热水" in r["facilities"] for r in result.records)


def test_unmapped_phrase_is_reported_not_dropped_silently(store: HotelStore):
    result = store.search({"type": "经济型", "facilities": ["宠物乐园"]})
    assert result.unmapped == ("宠物乐园",)
    assert ids(result) == ids(store.search({"type": "经济型"}))


def test_exact_results_come_in_database_order(store: HotelStore):
    found = ids(store.search({"type": "经济型", "rating_range_lower": 4.5}))
    assert len(found) > 3 and found == sorted(found)


def test_limit_keeps_the_first_records(store: HotelStore):
    everything = ids(store.search({"type": "高档型"}))
    assert ids(store.search({"type": "高档型"}, limit=3)) == everything[:3]


def test_impossible_rating_is_relaxed_first_closest_rating_first(store: HotelStore):
    result = store.search({"type": "舒适型", "rating_range_lower": 5.0, "rating_range_upper": 5.0})
    assert result.relaxed == ("rating_range_lower",) and not result.exact
    ratings = [r["rating"] for r in result.records]
    assert {r["type"] for r in result.records} == {"舒适型"} and ratings == sorted(ratings, reverse=True)


def test_cheap_type_above_its_prices_drops_the_type_and_keeps_the_price(store: HotelStore):
    result = store.search({"type": "经济型", "price_range_lower": 1000})
    assert result.relaxed == ("type",)
    assert all(r["price"] >= 1000 for r in result.records)
    assert result.records[0]["type"] == "舒适型"  # the neighbouring class comes first


def test_price_below_every_hotel_returns_the_cheapest_first(store: HotelStore):
    result = store.search({"price_range_upper": 1})
    prices = [r["price"] for r in result.records]
    priced = [p for p in prices if p >= 0]
    assert result.relaxed == ("price_range_upper",) and priced == sorted(priced)
    assert prices == priced + [-1.0] * (len(prices) - len(priced))  # hotels without a price come last


def test_arguments_are_validated(store: HotelStore):
    with pytest.raises(ArgumentError, match="type"):
        store.search({"type": "五星级"})
    with pytest.raises(ArgumentError, match="unknown argument"):
        store.search({"city": "北京"})


# --- near a place ---------------------------------------------------------------------------------------


def near_ids(text: str) -> list[int]:
    index = place_index()
    return list(index.hotels_near(index.resolve(text).place))


def test_near_keeps_only_the_hotels_near_the_place(store: HotelStore):
    result = store.search({"near": "故宫"})
    assert ids(result) == near_ids("故宫") != []
    assert result.near is not None and result.near.name == "故宫" and result.near.nearby == len(result.records)


def test_near_combines_with_the_other_constraints(store: HotelStore):
    near = near_ids("国贸")
    wanted = store.get(near[0])["type"]
    result = store.search({"near": "国贸", "type": wanted})
    assert result.exact and ids(result) == [i for i in near if store.get(i)["type"] == wanted]


def test_near_is_kept_and_the_other_constraints_relaxed_when_nothing_near_meets_them(store: HotelStore):
    near = near_ids("故宫")
    missing = next(t for t in ("经济型", "舒适型", "高档型", "豪华型") if all(store.get(i)["type"] != t for i in near))
    result = store.search({"near": "故宫", "type": missing})
    assert result.relaxed == ("type",) and "near" not in result.relaxed
    assert result.records and set(ids(result)) <= set(near)


def test_a_place_with_no_hotel_near_gives_an_empty_result_that_says_so(store: HotelStore):
    result = store.search({"near": "八达岭长城", "type": "经济型"})
    assert result.records == [] and result.relaxed == ()
    assert result.near.known and result.near.nearby == 0


def test_an_unknown_place_gives_an_empty_result_naming_it(store: HotelStore):
    result = store.search({"near": "火星基地"})
    assert result.records == [] and result.near.query == "火星基地" and not result.near.known


def test_each_record_says_why_it_is_near(store: HotelStore):
    station = store.search({"near": "西直门地铁站"}, limit=2)
    assert len(station.near_reasons) == len(station.records) == 2 and set(station.near_reasons) == {SAME_STATION}
    assert set(store.search({"near": "故宫"}).near_reasons) == {LISTED}


def test_near_and_a_name_that_is_not_near_find_nothing(store: HotelStore):
    far = next(r["name"] for r in store.records() if r["hotel_id"] not in near_ids("故宫") and "(" not in r["name"])
    result = store.search({"near": "故宫", "name": far})
    assert result.records == [] and result.relaxed == ()


def test_a_search_without_near_reports_no_place(store: HotelStore):
    result = store.search({"type": "经济型"}, limit=3)
    assert result.near is None and result.near_reasons == ()


def test_near_must_be_a_non_empty_string(store: HotelStore):
    with pytest.raises(ArgumentError, match="near"):
        store.search({"near": ["故宫"]})
    with pytest.raises(ArgumentError, match="near"):
        store.search({"near": "  "})
