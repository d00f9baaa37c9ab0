"""SMS-Activate service codes with display names and search.

Codes are the provider's (2–4 lowercase letters); ``ot`` buys a number for a site that has no
code of its own, and ``full`` rents a whole number for every service. Aliases are the other
words people type for a service (brand spellings, Russian transliterations, sibling products).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "POPULAR_SERVICES",
    "SERVICES",
    "Service",
    "fold",
    "search_services",
    "service",
    "service_name",
]


@dataclass(frozen=True, slots=True)
class Service:
    code: str
    en: str
    ru: str
    aliases: tuple[str, ...] = ()

    def name(self, locale: str) -> str:
        return self.ru if locale.lower().startswith("ru") else self.en


_TABLE: tuple[Service, ...] = (
    Service("tg", "Telegram", "Телеграм", ("телеграмм", "телега", "tlg")),
    Service("wa", "WhatsApp", "Ватсап", ("вотсап", "ватсап", "вацап", "whats app")),
    Service("vk", "VKontakte", "ВКонтакте", ("vk", "вк", "vk.com")),
    Service("ok", "Odnoklassniki", "Одноклассники", ("ok.ru", "ок")),
    Service(
        "go",
        "Google, YouTube, Gmail",
        "Google, YouTube, Gmail",
        ("гугл", "youtube", "ютуб", "gmail", "гмейл"),
    ),
    Service("fb", "Facebook", "Фейсбук", ("meta", "фб")),
    Service("ig", "Instagram", "Инстаграм", ("insta", "инста", "threads")),
    Service("tw", "X (Twitter)", "X (Твиттер)", ("twitter", "твиттер", "x")),
    Service("av", "Avito", "Авито", ("авито",)),
    Service("ya", "Yandex", "Яндекс", ("яндекс", "yandex id")),
    Service("mm", "Microsoft", "Microsoft", ("outlook", "hotmail", "skype", "майкрософт")),
    Service("am", "Amazon", "Амазон", ("amazon",)),
    Service("ds", "Discord", "Дискорд", ("дискорд",)),
    Service("ts", "PayPal", "PayPal", ("пейпал", "paypal")),
    Service("wb", "WeChat", "WeChat", ("вичат", "weixin")),
    Service("vi", "Viber", "Вайбер", ("вайбер",)),
    Service("lf", "TikTok", "ТикТок", ("tik tok", "тик ток", "douyin")),
    Service("ma", "Mail.ru", "Mail.ru", ("mail", "мейл", "майл")),
    Service("ub", "Uber", "Uber", ("убер",)),
    Service("oi", "Tinder", "Тиндер", ("тиндер",)),
    Service("nf", "Netflix", "Нетфликс", ("нетфликс",)),
    Service("dr", "OpenAI", "OpenAI", ("chatgpt", "chat gpt", "чатгпт")),
    Service("wx", "Apple", "Apple", ("apple id", "icloud", "эпл")),
    Service("mt", "Steam", "Steam", ("стим",)),
    Service("me", "LINE", "LINE", ("line messenger",)),
    Service("mb", "Yahoo", "Yahoo", ("яху",)),
    Service("kt", "KakaoTalk", "KakaoTalk", ("kakao", "какао")),
    Service("tn", "LinkedIn", "LinkedIn", ("линкедин",)),
    Service("qq", "Tencent QQ", "Tencent QQ", ("qq",)),
    Service("nv", "Naver", "Naver", ()),
    Service("fu", "Snapchat", "Снэпчат", ("snap",)),
    Service("sg", "OZON", "Озон", ("ozon",)),
    Service("uu", "Wildberries", "Wildberries", ("вайлдберриз", "вб")),
    Service("ym", "Youla", "Юла", ("юла",)),
    Service("ua", "BlaBlaCar", "BlaBlaCar", ("блаблакар",)),
    Service("ab", "Alibaba", "Alibaba", ("алибаба",)),
    Service("hx", "AliExpress", "AliExpress", ("алиэкспресс", "али")),
    Service("hw", "AliPay", "AliPay", ("алипей",)),
    Service("tl", "Truecaller", "Truecaller", ()),
    Service("tx", "Bolt", "Bolt", ("taxify",)),
    Service("ka", "Shopee", "Shopee", ()),
    Service("dh", "eBay", "eBay", ("ибей",)),
    Service("re", "Coinbase", "Coinbase", ()),
    Service("dp", "ProtonMail", "ProtonMail", ("proton",)),
    Service("qr", "MEGA", "MEGA", ("mega.nz",)),
    Service("sn", "OLX", "OLX", ()),
    Service("gt", "Gett", "Gett", ()),
    Service("qw", "Qiwi", "Киви", ("qiwi",)),
    Service("rl", "inDriver", "inDriver", ("индрайвер",)),
    Service("ew", "Nike", "Nike", ("найк",)),
    Service("zh", "Zoho", "Zoho", ()),
    Service("kf", "Weibo", "Weibo", ()),
    Service("za", "JD.com", "JD.com", ("jingdong",)),
    Service("li", "Baidu", "Baidu", ()),
    Service("im", "Imo", "Imo", ()),
    Service("fd", "Mamba", "Мамба", ("mamba",)),
    Service("uk", "Airbnb", "Airbnb", ()),
    Service("nz", "Foodpanda", "Foodpanda", ()),
    Service("ls", "Careem", "Careem", ()),
    Service("bl", "BIGO LIVE", "BIGO LIVE", ("bigo",)),
    Service("xv", "Wish", "Wish", ()),
    Service("dt", "Delivery Club", "Delivery Club", ("деливери",)),
    Service("rr", "Wolt", "Wolt", ()),
    Service("iq", "ICQ", "ICQ", ("аська",)),
    Service("jc", "IVI", "Иви", ("ivi",)),
    Service("ui", "RuTube", "RuTube", ("рутуб",)),
    Service("df", "Happn", "Happn", ()),
    Service("yw", "Grindr", "Grindr", ()),
    Service("qv", "Badoo", "Badoo", ("баду",)),
    Service("mg", "Magnit", "Магнит", ("magnit",)),
    Service("pl", "Perekrestok", "Перекрёсток", ("перекресток",)),
    Service("ip", "Burger King", "Бургер Кинг", ("burgerking",)),
    Service("ry", "McDonald's", "Макдоналдс", ("mcdonalds", "макдак")),
    Service("sd", "Dodo Pizza", "Додо Пицца", ("dodopizza",)),
    Service("hz", "Drom.ru", "Дром", ("drom",)),
    Service("ji", "Monobank", "Монобанк", ("mono",)),
    Service("ij", "Revolut", "Revolut", ("револют",)),
    Service("hb", "Twitch", "Twitch", ("твич",)),
    Service("tu", "Lyft", "Lyft", ()),
    Service("ac", "DoorDash", "DoorDash", ()),
    Service("xt", "Flipkart", "Flipkart", ()),
    Service("bc", "GCash", "GCash", ()),
    Service("bz", "Blizzard", "Blizzard", ("battle.net", "близзард")),
    Service("jg", "Grab", "Grab", ()),
    Service("mj", "Zalo", "Zalo", ()),
    Service("dl", "Lazada", "Lazada", ()),
    Service("cn", "Fiverr", "Fiverr", ()),
    Service("vp", "Kwai", "Kwai", ()),
    Service("ot", "Any other", "Любой другой", ("other", "другой", "любой")),
    Service("full", "Whole number", "Весь номер", ("rent", "аренда")),
)

SERVICES: dict[str, Service] = {svc.code: svc for svc in _TABLE}

POPULAR_SERVICES: tuple[str, ...] = (
    "tg",
    "wa",
    "go",
    "vk",
    "ig",
    "fb",
    "tw",
    "lf",
    "ds",
    "oi",
    "am",
    "ot",
)

_POPULARITY = {code: rank for rank, code in enumerate(POPULAR_SERVICES)}


def service(code: str) -> Service | None:
    return SERVICES.get(code)


def service_name(code: str, locale: str) -> str:
    """The service's name in ``locale``; the bare code for services we do not know."""
    found = SERVICES.get(code)
    return found.name(locale) if found is not None else code


def fold(text: str) -> str:
    """Text as every catalogue search compares it: case, "ё" and surrounding spaces aside."""
    return text.casefold().replace("ё", "е").strip()


def search_services(query: str, locale: str) -> list[Service]:
    """Services matching ``query``: exact code, then name/alias prefixes, then substrings.

    Popular services come first inside each group, the rest in name order for ``locale``.
    """
    needle = fold(query)
    if not needle:
        return []

    def order(svc: Service) -> tuple[int, str]:
        return (_POPULARITY.get(svc.code, len(_POPULARITY)), fold(svc.name(locale)))

    exact: list[Service] = []
    prefix: list[Service] = []
    inside: list[Service] = []
    for svc in SERVICES.values():
        if svc.code == needle:
            exact.append(svc)
            continue
        words = [fold(svc.en), fold(svc.ru), *(fold(alias) for alias in svc.aliases)]
        if any(word.startswith(needle) for word in words):
            prefix.append(svc)
        elif any(needle in word for word in words):
            inside.append(svc)
    return exact + sorted(prefix, key=order) + sorted(inside, key=order)
