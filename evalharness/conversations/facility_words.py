"""What a person means by a facility word, in the database's own facility names: the evaluator's answer key.

Written by hand from the 37 facility names of crosswoz/hotel_db.json, on purpose independent of the agent's
learned facility map (agent.core.facilities): the judge of a facility question or of a goal's facility must not
share the agent's mistakes. A word means "any of these" (游泳池: an indoor or an outdoor pool)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

_WIFI = ("公共区域和部分房间提供wifi", "酒店各处提供wifi", "部分房间提供wifi", "公共区域提供wifi", "所有房间提供wifi")
_POOLS = ("室内游泳池", "室外游泳池")
_BREAKFAST = ("早餐服务", "早餐服务免费")

FACILITY_WORDS: Mapping[str, tuple[str, ...]] = {
    "wifi": _WIFI,
    "WiFi": _WIFI,
    "无线网络": _WIFI,
    "无线网": _WIFI,
    "无线上网": _WIFI,
    "宽带": ("宽带上网",),
    "宽带上网": ("宽带上网",),
    "健身房": ("健身房",),
    "游泳池": _POOLS,
    "泳池": _POOLS,
    "室内游泳池": ("室内游泳池",),
    "室外游泳池": ("室外游泳池",),
    "停车场": ("收费停车位",),
    "停车位": ("收费停车位",),
    "停车": ("收费停车位",),
    "能停车": ("收费停车位",),
    "早餐": _BREAKFAST,
    "免费早餐": ("早餐服务免费",),
    "接机": ("接机服务",),
    "接机服务": ("接机服务",),
    "接站": ("接站服务",),
    "接站服务": ("接站服务",),
    "叫醒服务": ("叫醒服务",),
    "行李寄存": ("行李寄存",),
    "吹风机": ("吹风机",),
    "洗衣服务": ("洗衣服务",),
    "商务中心": ("商务中心",),
    "会议室": ("会议室",),
    "桑拿": ("桑拿",),
    "SPA": ("SPA",),
    "spa": ("SPA",),
    "温泉": ("温泉",),
    "棋牌室": ("棋牌室",),
    "酒吧": ("酒吧",),
    "暖气": ("暖气",),
    "租车": ("租车",),
    "租车服务": ("租车",),
    "中餐厅": ("中式餐厅",),
    "中式餐厅": ("中式餐厅",),
    "西餐厅": ("西式餐厅",),
    "西式餐厅": ("西式餐厅",),
    "国际长途电话": ("国际长途电话",),
    "无烟房": ("无烟房",),
    "残疾人设施": ("残疾人设施",),
    "接待外宾": ("接待外宾",),
    "看护小孩服务": ("看护小孩服务",),
    "热水": ("24小时热水",),
    "24小时热水": ("24小时热水",),
    "免费市内电话": ("免费市内电话",),
    "免费国内长途电话": ("免费国内长途电话",),
}


def facility_names(phrase: str) -> tuple[str, ...]:
    """The database facilities `phrase` means; () for a phrase this table does not know."""
    return FACILITY_WORDS.get(phrase.strip(), ())


def offers(record_facilities: Iterable[str], phrase: str) -> bool:
    """Whether a hotel with these facilities offers what `phrase` means."""
    return bool(set(record_facilities) & set(facility_names(phrase)))
