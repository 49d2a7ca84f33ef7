"""The booking details one message gives (guest, check-in as written, nights), read as people write them."""

from __future__ import annotations

import pytest

from backends.rules.booking_slots import find_details, find_guest, looks_like_name


@pytest.mark.parametrize(
    "text, guest",
    [
        ("名字张三", "张三"),
        ("入住人是王小明", "王小明"),
        ("我叫李四", "李四"),
        ("姓名：欧阳娜娜，两晚", "欧阳娜娜"),
        ("用赵六的名字订", "赵六"),
        ("入住人Tom Smith", "Tom Smith"),
        ("帮我订第二家，张三，两晚", "张三"),
    ],
)
def test_the_guest_name_as_people_give_it(text, guest):
    assert find_guest(text) == guest


@pytest.mark.parametrize("text", ["好的", "谢谢", "高档型", "两晚", "第二家", "算了", "可以"])
def test_words_that_are_not_names(text):
    assert not looks_like_name(text)


@pytest.mark.parametrize(
    "text, nights",
    [("两晚", 2), ("住3天", 3), ("2个晚上", 2), ("住一周", 7), ("三夜", 3), ("12月1日到12月3日", 2), ("一个晚上", 1)],
)
def test_nights_as_people_say_them(text, nights):
    assert find_details(text).nights == nights


@pytest.mark.parametrize(
    "text, check_in", [("12月1日入住", "12月1日"), ("后天", "后天"), ("下周五住两晚", "下周五"), ("5号", "5号")]
)
def test_the_check_in_is_kept_as_written(text, check_in):
    assert find_details(text).check_in == check_in


def test_a_date_is_never_a_count_of_nights():
    assert find_details("12月1日入住").nights is None


def test_tonight_is_a_date_not_nights():
    found = find_details("今晚入住")
    assert (found.check_in, found.nights) == ("今晚", None)
