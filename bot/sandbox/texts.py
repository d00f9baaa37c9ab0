"""Realistic message texts for scripted traffic, and code extraction from injected texts."""

from __future__ import annotations

import random
import re

from bot.catalogue import SERVICES

__all__ = [
    "extract_code",
    "extract_mail_value",
    "letter_text",
    "random_code",
    "sms_sender",
    "sms_text",
]

_TEMPLATES = {
    "tg": "Telegram code: {code}\n\nYou can also tap on this link to log in:\nhttps://t.me/login/{code}",
    "wa": "Your WhatsApp code: {dashed}\nDon't share this code with others",
    "go": "G-{code} is your Google verification code.",
    "vk": "VK: {code} — код подтверждения. Никому не говорите код!",
    "ok": "Код для входа в ОК: {code}",
    "fb": "{code} is your Facebook confirmation code",
    "ig": "Use {code} to verify your Instagram account.",
    "tw": "{code} is your X verification code.",
    "av": "Код подтверждения: {code}. Никому его не сообщайте. Авито",
    "ya": "Ваш код подтверждения: {code}. Наберите его в поле ввода. Яндекс ID",
    "mm": "Use {code} as Microsoft account security code",
    "am": "{code} is your Amazon OTP. Do not share it with anyone.",
    "ds": "Your Discord verification code is: {code}",
    "ts": "PayPal: {code} is your security code. Don't share your code.",
    "wb": "[WeChat] Your verification code is {code}. Do not share it with anyone.",
    "vi": "Your Viber code: {code}",
    "lf": "[TikTok] {code} is your verification code, valid for 5 minutes.",
    "ma": "Код подтверждения Mail: {code}",
    "ub": "Your Uber code: {code}. Never share this code.",
    "oi": "Your Tinder code is {code}",
    "nf": "Your Netflix verification code is {code}.",
    "dr": "Your OpenAI verification code is: {code}",
    "wx": "Your Apple Account code is: {code}. Don't share it with anyone.",
    "mt": "Steam: your verification code is {code}",
}

_SENDERS = {
    "tg": "Telegram", "wa": "WhatsApp", "go": "Google", "vk": "VK", "ok": "OK.RU",
    "fb": "FACEBOOK", "ig": "Instagram", "tw": "X", "av": "AVITO", "ya": "Yandex",
    "mm": "Microsoft", "am": "AMAZON", "ds": "Discord", "ts": "PayPal", "wb": "WeChat",
    "vi": "Viber", "lf": "TikTok", "ma": "Mail.ru", "ub": "Uber", "oi": "Tinder",
}  # fmt: skip

_CODE_RE = re.compile(r"(?<!\d)(\d{3})[- ](\d{3})(?!\d)|(?<!\d)(\d{4,8})(?!\d)")
_URL_RE = re.compile(r"https?://\S+")


def sms_text(service: str, code: str) -> str:
    template = _TEMPLATES.get(service)
    if template is None:
        found = SERVICES.get(service)
        name = found.en if found is not None and service not in ("ot", "full") else "service"
        template = "Your {name} verification code: {code}".replace("{name}", name)
    dashed = f"{code[:3]}-{code[3:]}" if len(code) == 6 else code
    return template.format(code=code, dashed=dashed)


def sms_sender(service: str, rng: random.Random) -> str:
    sender = _SENDERS.get(service)
    if sender is not None:
        return sender
    return "7" + "".join(rng.choice("0123456789") for _ in range(10))


def random_code(rng: random.Random) -> str:
    digits = rng.choice((5, 6))
    return str(rng.randrange(10 ** (digits - 1), 10**digits))


def extract_code(text: str) -> str:
    """The code a provider would parse out of an SMS; the whole text when it finds none."""
    match = _CODE_RE.search(text)
    if match is None:
        return text.strip()
    if match.group(3) is not None:
        return match.group(3)
    return match.group(1) + match.group(2)


def extract_mail_value(text: str) -> str:
    """What checkMailActivation reports as ``value``: the confirmation link, else the code."""
    link = _URL_RE.search(text)
    if link is not None:
        return link.group(0).rstrip(".,)")
    return extract_code(text)


def letter_text(site: str, code: str, token: str) -> str:
    return (
        f"Hello!\n\nYour verification code for {site} is {code}.\n"
        f"Or confirm your e-mail address by following this link: "
        f"https://{site}/confirm?token={token}\n\n"
        f"If you did not request this, just ignore this letter."
    )
