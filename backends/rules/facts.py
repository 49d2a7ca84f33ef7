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


def has_fact(record: dict[str, Any], field: str) -> bool:
    """Whether the record holds `field` (a price of -1 or none is no price)."""
    return field not in _FACTS or _value(record, field) is not None


def unknown_fact(record: dict[str, Any], field: str) -> str:
    """抱歉，北京甲酒店暂无价格信息。 — said instead of another fact when the record lacks the one asked for."""
    return f"抱歉，{record['name']}暂无{_FACTS[field][0]}信息。"


def each_row(fields: tuple[str, ...], records: list[dict[str, Any]]) -> str:
    """北京甲酒店的电话是010-1，北京乙酒店的电话是010-2。 — every asked field of every record, in table order; a field
    a record lacks is said to be unknown (暂无价格信息)."""
    parts = []
    for record in records:
        asked = [f for f in fields if f in _FACTS]
        said = [f"{_FACTS[f][0]}是{v}" for f in asked if (v := _value(record, f)) is not None]
        unknown = [_FACTS[f][0] for f in asked if _value(record, f) is None]
        part = f"{record['name']}的" + "，".join(said) if said else str(record["name"])
        if unknown:
            part += ("，" if said else "") + f"暂无{'、'.join(unknown)}信息"
        parts.append(part)
    return "；".join(parts) + "。"
