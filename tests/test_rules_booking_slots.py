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


@pytest.mark.parametrize(
    "text, check_in",
    [
        ("后儿个入住", "后天"),
        ("明儿个住", "明天"),
        ("12/8入住", "12月8日"),
        ("入住日期：3.15", "3月15日"),
        ("1.20号住", "1月20日"),
    ],
)
def test_colloquial_and_numeric_dates_are_rewritten_as_dates_the_loop_reads(text, check_in):
    assert find_details(text).check_in == check_in


@pytest.mark.parametrize("text", ["评分4.5以上", "4.8分的那家", "价格在3.5百左右"])
def test_a_decimal_that_is_no_date_stays_a_number(text):
    assert find_details(text).check_in is None


def test_liang_said_as_lia_is_two():
    assert find_details("订俩晚上").nights == 2


@pytest.mark.parametrize(
    "text, past", [("前天入住的", "前天"), ("上礼拜三开始住", "上礼拜三"), ("上个月5号", "上个月5号")]
)
def test_a_check_in_in_the_past_is_no_date_but_is_kept_to_say_why(text, past):
    found = find_details(text)
    assert (found.check_in, found.past) == (None, past)


def test_a_past_day_corrected_in_the_same_message_is_the_later_one():
    found = find_details("不是上周一，是下周一")
    assert (found.check_in, found.past) == ("下周一", None)


@pytest.mark.parametrize(
    "text, check_in, nights",
    [
        ("12月20号入住，23号退房", "12月20号", 3),
        ("1月2日入住，住到1月5日", "1月2日", 3),
        ("12月30日来，一直到2号", "12月30日", 3),
        ("12月20号入住，12月21号离店", "12月20号", 1),
    ],
)
def test_a_check_out_date_gives_the_nights(text, check_in, nights):
    found = find_details(text)
    assert (found.check_in, found.nights) == (check_in, nights)


@pytest.mark.parametrize(
    "text, guest", [("入住人写错了，应该是赵敏", "赵敏"), ("名字换成陈晨", "陈晨"), ("姓名改为Anna Lee", "Anna Lee")]
)
def test_a_corrected_name_is_the_new_one(text, guest):
    assert find_guest(text, bare=False) == guest
