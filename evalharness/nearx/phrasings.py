"""How the near-X evaluation set's users ask for hotels near a place. FOR EVALUATION ONLY.

Training data for near-X must be written with different phrasings, kept in another module (finetune's side):
a model trained on these sentences would be scored on its own training data. Changing anything here changes
the set, and its sha256 in every run's signature, so runs before and after are not compared unawares.

Placeholders: {place} (how the message names the place: a full name, or a short form only that place has),
{type} (酒店类型), {price} (an upper price bound in yuan), {rating} (a lower rating bound). Each phrasing kind
has its own table; `SENTENCE` is per kind of place, since the other question has to fit the place."""

from __future__ import annotations

# A place alone.
ALONE = (
    "{place}附近有什么酒店？",
    "{place}附近有酒店吗",
    "帮我找一家{place}附近的酒店",
    "我想住在{place}附近，有推荐的吗？",
    "{place}周边有哪些酒店？",
    "请推荐几家{place}旁边的酒店",
    "离{place}近一点的酒店有哪些？",
    "有没有靠近{place}的酒店？",
    "{place}一带有什么酒店可以住？",
    "查一下{place}周围的酒店",
    "你好，{place}附近能住的地方有哪些？",
    "住{place}附近方便，帮我看看有什么酒店",
)

# A place with other constraints, and the search arguments those constraints are (the set checks they are kept).
CONSTRAINED = (
    ("{place}附近的{type}酒店", ("type",)),
    ("{place}附近有没有{price}元以下的酒店？", ("price",)),
    ("帮我找{place}周边评分{rating}分以上的酒店", ("rating",)),
    ("我想找一家离{place}近的{type}酒店", ("type",)),
    ("{place}附近有没有{type}的酒店，价格{price}元以内", ("type", "price")),
    ("靠近{place}、评分{rating}分以上的酒店有吗？", ("rating",)),
    ("{place}旁边有{price}元以下的{type}酒店吗？", ("type", "price")),
    ("请帮我找{place}一带的{type}酒店，评分最好在{rating}分以上", ("type", "rating")),
)

# Inside a longer message that also asks something the agent cannot answer, by kind of place.
SENTENCE = {
    "attraction": (
        "{place}的门票多少钱？周边有哪些酒店？",
        "我明天去{place}玩，附近有什么酒店推荐吗？",
        "{place}开放到几点？附近有没有酒店？",
        "想带孩子去{place}，值得去吗？顺便帮我找找附近的酒店",
    ),
    "restaurant": (
        "{place}的招牌菜是什么？附近有酒店吗？",
        "晚上想去{place}吃饭，吃完就近住下，附近有酒店吗？",
        "{place}人均消费多少？它周边有什么酒店？",
        "{place}几点营业？顺便看看附近的酒店",
    ),
    "hotel": (
        "我朋友住在{place}，我想住得离他近一点，附近还有别的酒店吗？",
        "{place}满房了，附近还有其他酒店吗？",
        "开会的地方在{place}，怎么走比较方便？附近有什么酒店？",
    ),
    "station": (
        "{place}是几号线？附近有酒店吗？",
        "我坐地铁到{place}，出站附近有酒店吗？",
        "从机场怎么去{place}？到了想在附近找个酒店",
    ),
}

# After an unrelated first search, a follow-up that moves the search near a place; the first search's
# constraints are expected to be kept.
FIRST_SEARCH = (
    ("帮我找一家{type}酒店", ("type",)),
    ("有没有评分{rating}分以上的酒店？", ("rating",)),
    ("推荐一家{price}元以下的酒店", ("price",)),
    ("你好，我想订一家{type}的酒店，评分{rating}分以上", ("type", "rating")),
)
FOLLOW_UP = (
    "那{place}附近呢？",
    "换成{place}附近的吧",
    "有没有在{place}附近的？",
    "{place}周边有吗？",
    "最好离{place}近一点",
)

# The values the placeholders take.
TYPES = ("经济型", "舒适型", "高档型", "豪华型")
PRICES = (300, 400, 500, 800, 1000)
RATINGS = (4, 4.5)
