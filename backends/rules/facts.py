"""A record's facts said plainly, for questions the mined templates do not cover (the phone of two rows at once)."""

from __future__ import annotations

from typing import Any

_FACTS = {
    "phone": ("电话", "{}"),
    "address": ("地址", "{}"),
    "subway": ("地铁站", "{}"),
    "price": ("价格", "{}元"),
    "rating": ("评分", "{}分"),
    "type": ("类型", "{}"),
}


def _value(record: dict[str, Any], field: str) -> str | None:
    value = record.get(field)
    if (
        value is None
        or value == ""
        or (field in ("price", "rating") and (not isinstance(value, float | int) or value <= 0))
    ):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _FACTS[field][1].format(value)


def each_row(fields: tuple[str, ...], records: list[dict[str, Any]]) -> str:
    """北京甲酒店的电话是010-1，北京乙酒店的电话是010-2。 — every asked field of every record, in table order."""
    parts = []
    for record in records:
        said = [f"{_FACTS[f][0]}是{v}" for f in fields if f in _FACTS and (v := _value(record, f)) is not None]
        parts.append(f"{record['name']}的" + "，".join(said) if said else f"{record['name']}没有这项信息")
    return "；".join(parts) + "。"
