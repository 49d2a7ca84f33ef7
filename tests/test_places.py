"""agent.core.places: which place a text names, and which hotels the data puts near it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.core.places import (
    ATTRACTION,
    HOTEL,
    LISTED,
    RESTAURANT,
    SAME_STATION,
    STATION,
    PlaceIndex,
    clean_query,
    place_index,
    station_of,
)


@pytest.fixture(scope="module")
def index() -> PlaceIndex:
    return place_index()


def db(data_dir: Path, name: str) -> dict[str, dict]:
    return dict(json.loads((data_dir / "crosswoz" / name).read_text(encoding="utf-8")))


def resolved(index: PlaceIndex, text: str) -> tuple[str | None, str | None]:
    place = index.resolve(text).place
    return (place.name, place.kind) if place else (None, None)


# --- what a text names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, name, kind",
    [
        ("故宫", "故宫", ATTRACTION),
        ("北京故宫", "故宫", ATTRACTION),
        ("北京贵都大酒店", "北京贵都大酒店", HOTEL),
        ("护国寺小吃店（护国寺总店）", "护国寺小吃店（护国寺总店）", RESTAURANT),
    ],
)
def test_a_full_name_names_that_place(index, text, name, kind):
    assert resolved(index, text) == (name, kind)


@pytest.mark.parametrize("text", ["西直门", "西直门站", "西直门地铁站", "西直门地铁站A口", "西直门地铁"])
def test_a_station_is_named_with_or_without_its_suffix(index, text):
    assert resolved(index, text) == ("西直门", STATION)


def test_a_station_whose_name_ends_in_zhan_keeps_it(index):
    assert resolved(index, "北京站") == ("北京站", STATION)
    assert resolved(index, "北京西站地铁站") == ("北京西站", STATION)


def test_a_full_name_spelled_like_a_station_is_the_named_place_unless_the_station_is_said(index):
    # 苏州街 is a street in the Summer Palace and, elsewhere in Haidian, a subway station.
    assert resolved(index, "苏州街") == ("苏州街", ATTRACTION)
    assert resolved(index, "苏州街地铁站") == ("苏州街", STATION)


@pytest.mark.parametrize("text", ["三里屯附近", "三里屯周边", "三里屯一带", "三里屯那边的"])
def test_words_that_say_near_are_not_part_of_the_name(index, text):
    assert clean_query(text) == "三里屯"
    assert resolved(index, text) == ("三里屯酒吧街", ATTRACTION)


@pytest.mark.parametrize(
    "text, name",
    [
        ("姚记炒肝店", "姚记炒肝店（鼓楼店）"),  # without the branch bracket
        ("海洋馆", "北京海洋馆"),  # without the city
        ("国家体育场", "鸟巢（国家体育场）"),  # an attraction's other name in brackets
        ("鸟巢", "鸟巢（国家体育场）"),
        ("北大", "北京大学"),  # a colloquial alias
    ],
)
def test_short_forms_name_the_full_place(index, text, name):
    assert resolved(index, text)[0] == name


def test_part_of_a_name_outside_its_bracket_names_the_place(index):
    assert resolved(index, "天安门") == ("天安门广场", ATTRACTION)


def test_an_ambiguous_short_form_takes_the_best_supported_place_and_keeps_the_others(index):
    resolution = index.resolve("长城")
    # every 长城 is an attraction with no hotel near; the best-known (first in CrossWOZ) is taken
    assert resolution.place.name == "八达岭长城"
    assert "慕田峪长城" in [p.name for p in resolution.alternatives]


def test_among_branches_the_one_with_most_hotels_near_is_taken(index):
    resolution = index.resolve("海底捞")
    assert resolution.place.kind == RESTAURANT and resolution.alternatives
    assert all(len(index.hotels_near(resolution.place)) >= len(index.hotels_near(p)) for p in resolution.alternatives)


@pytest.mark.parametrize("text", ["酒店", "北京", "大酒店", "火星基地", ""])
def test_generic_words_and_unknown_places_name_nothing(index, text):
    assert index.resolve(text).place is None


def test_a_hotel_name_with_gaps_is_found(index):
    assert resolved(index, "汉庭西直门店") == ("汉庭酒店(北京西直门店)", HOTEL)


# --- which hotels are near ---------------------------------------------------------------------------------


def test_an_attraction_has_the_hotels_it_lists_and_those_listing_it(index, data_dir):
    hotels = list(db(data_dir, "hotel_db.json"))
    listed = set(db(data_dir, "attraction_db.json")["故宫"]["周边酒店"])
    listing = {name for name, r in db(data_dir, "hotel_db.json").items() if "故宫" in r["周边景点"]}
    near = index.hotels_near(index.resolve("故宫").place)
    assert {hotels[i] for i in near} == listed | listing
    assert set(near.values()) == {LISTED}


def test_a_restaurant_has_the_hotels_it_lists(index, data_dir):
    hotels = list(db(data_dir, "hotel_db.json"))
    name = "护国寺小吃店（护国寺总店）"
    near = index.hotels_near(index.resolve(name).place)
    assert {hotels[i] for i in near} == set(db(data_dir, "restaurant_db.json")[name]["周边酒店"])


def test_a_station_has_the_hotels_at_that_station(index, data_dir):
    near = index.hotels_near(index.resolve("西直门地铁站").place)
    records = list(db(data_dir, "hotel_db.json").values())
    assert near and set(near.values()) == {SAME_STATION}
    assert {i for i, r in enumerate(records) if station_of(r["地铁"]) == "西直门"} == set(near)


def test_a_hotel_has_the_other_hotels_at_its_station_not_itself(index, data_dir):
    hotels = db(data_dir, "hotel_db.json")
    place = index.resolve("北京贵都大酒店").place
    near = index.hotels_near(place)
    names = list(hotels)
    assert near and names.index("北京贵都大酒店") not in near
    assert all(station_of(hotels[names[i]]["地铁"]) == place.station for i in near)


def test_a_place_the_data_lists_no_hotel_near_has_none(index):
    assert index.hotels_near(index.resolve("八达岭长城").place) == {}


def test_hotels_near_come_in_database_order(index):
    near = index.hotels_near(index.resolve("国贸").place)
    assert list(near) == sorted(near)


def test_every_station_has_a_hotel(index):
    stations = [p for p in index.places if p.kind == STATION]
    assert len(stations) == 244 and all(index.hotels_near(p) for p in stations)


def test_surface_forms_resolve_to_the_place_they_map_to(index):
    forms = index.surface_forms()
    for form in ("故宫", "鸟巢", "西直门", "北大", "苏州街", "姚记炒肝店"):
        assert forms[form] == index.resolve(form).place


def test_the_name_as_written_beats_the_name_without_the_city(index):
    # 北京西单美爵酒店 is a hotel; 西单美爵酒店 (the same without 北京) a restaurant
    assert resolved(index, "北京西单美爵酒店") == ("北京西单美爵酒店", HOTEL)
    assert resolved(index, "西单美爵酒店") == ("西单美爵酒店", RESTAURANT)


def test_the_place_spelled_exactly_so_beats_one_differing_in_bracket_width(index):
    assert resolved(index, "新石器烤肉（通州北苑店）")[0] == "新石器烤肉（通州北苑店）"
    assert resolved(index, "新石器烤肉(通州北苑店)")[0] == "新石器烤肉(通州北苑店)"
