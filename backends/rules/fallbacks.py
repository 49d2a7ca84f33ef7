"""Honest answers to what the rules cannot read: a message in another language, and one with nothing about hotels
in it (哈哈哈哈嗯嗯嗯, asdf, 今天天气怎么样). Those get one short line saying what the agent can do — never a
goodbye, never a search made up from nothing. Users of the course data type wifi, SPA and KTV inside Chinese:
those stay Chinese messages."""

from __future__ import annotations

import re

from backends.rules.nlu import Understanding

CHINESE_ONLY = "抱歉，我只能用中文交流，例如：帮我找一家评分4.5以上的经济型酒店。"
CLARIFY = "抱歉，我没太明白。您可以告诉我想找什么样的酒店，比如：帮我找一家有wifi的经济型酒店。"
GREETING = "您好！请问想找什么样的酒店？比如：帮我找一家有wifi的经济型酒店。"
OUT_OF_SCOPE = (
    "抱歉，我只能帮您查找和预订北京的酒店，机票、车票、门票和餐厅都订不了。比如您可以说：帮我找一家有wifi的经济型酒店。"
)

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LETTERS = re.compile(r"[A-Za-z]+")
# Latin words a Chinese message may be made of alone (a row's facility, an ok).
_LATIN_WORDS = frozenset({"wifi", "wi", "fi", "spa", "ktv", "ok", "okay"})
# Words of the hotel domain: a message holding one is about hotels even when no rule reads more of it.
_DOMAIN = re.compile(
    r"酒店|宾馆|饭店|旅馆|客栈|民宿|公寓|住|房|找|推荐|订|预|价|钱|元|评分|几分|星级|档|型|便宜|贵|设施|服务|早餐"
    r"|停车|电话|地址|地铁|位置|附近|哪|换|别的|其他|还有|条件|要求|选|信息|介绍|靠谱|不错|满意|可以|行"
    r"|wifi|spa|ktv|网|有没有|是否|有.{1,8}[吗么]",
    re.I,
)
_ACK = re.compile(
    r"^(?:好的?|好吧|好啊|好嘞|行|可以|嗯|嗯嗯|对|是的|没问题|ok|okay|确认|确定|知道了|明白了?)[。！!~～.,，]*$", re.I
)
_GREETING = re.compile(r"^(?:你好|您好|嗨|哈喽|喂|在吗|早上好|晚上好|下午好)[呀啊，,。！!~～\s]*$")


# Travel the agent cannot book (帮我订张机票 / 高铁票 / 订个餐厅): said honestly, never a search made from nothing.
_OTHER_TRAVEL = re.compile(
    r"机票|飞机票|火车票|车票|高铁票|动车票|船票|门票|电影票|演出票|航班|打车|叫车|出租车|外卖|(?:餐厅|餐馆)[^，。？?]{0,3}(?:位子|座位|包间|桌)|订(?:个|一个)?(?:座位|位子|桌)"
)
_HOTEL_WORDS = re.compile(r"酒店|宾馆|饭店|旅馆|客栈|民宿|公寓|住|房|入住|接机|接站")


def out_of_scope(text: str) -> bool:
    """A request about other travel (tickets, flights, taxis, restaurant tables) with no word of a hotel in it."""
    return bool(_OTHER_TRAVEL.search(text)) and not _HOTEL_WORDS.search(text)


def not_chinese(text: str) -> bool:
    """No Chinese character and some Latin letters that are not a facility's name (wifi) or an ok."""
    if _CJK.search(text):
        return False
    words = [w.lower() for w in _LETTERS.findall(text)]
    return bool(words) and not all(w in _LATIN_WORDS for w in words)


def is_greeting(text: str) -> bool:
    return bool(_GREETING.search(text.strip()))


def understood(text: str, understanding: Understanding, points_at_hotel: bool) -> bool:
    """Whether the message says anything the rules can act on: a constraint, a hotel, a question about the hotels
    shown, thanks or goodbye, an acknowledgement, or at least a word of the hotel domain."""
    return bool(
        understanding.slots
        or understanding.shown_mentions
        or understanding.attributes
        or understanding.thanks
        or understanding.bye
        or understanding.choice
        or understanding.compare
        or points_at_hotel
        or _ACK.search(text.strip())
        or _DOMAIN.search(text)
    )
