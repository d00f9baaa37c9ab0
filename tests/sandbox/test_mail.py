from __future__ import annotations

from decimal import Decimal

from bot.sandbox import Emulator, MailStatus
from tests.sandbox.helpers import KEY, OTHER, api_json


def buy_mail(emu: Emulator, site: str = "apple.com") -> tuple[int, str]:
    body = api_json(emu, "buyMailActivation", site=site, mail_type="2", mail_domain="gmail.com")
    assert body["status"] == "OK", body
    return body["response"]["id"], body["response"]["email"]


def test_domains(emu: Emulator) -> None:
    body = api_json(emu, "getDomains", site="apple.com")
    assert body["status"] == "OK"
    assert {"name", "cost"} == set(body["response"]["zones"][0])
    assert {"name", "cost", "count"} == set(body["response"]["popular"][0])
    assert api_json(emu, "getDomains", site="not a site") == {
        "status": "ERROR",
        "error": "BAD_SITE",
    }
    assert api_json(emu, "getDomains")["error"] == "BAD_SITE"


def test_buy_errors(emu: Emulator) -> None:
    def error(**params: str) -> str:
        body = api_json(emu, "buyMailActivation", **params)
        assert body["status"] == "ERROR"
        return str(body["error"])

    assert error(site="apple..com", mail_type="2", mail_domain="gmail.com") == "BAD_SITE"
    assert error(site="apple.com", mail_type="3", mail_domain="gmail.com") == "MAIL_TYPE_ERROR"
    assert error(site="apple.com", mail_type="1", mail_domain="gmail.com") == "MAIL_TYPE_ERROR"
    assert error(site="gosuslugi.ru", mail_type="2", mail_domain="gmail.com") == "BLOCKED_SITE"
    emu.add_account(KEY, "0")
    assert error(site="apple.com", mail_type="1", mail_domain="info") == "BAD_BALANCE"


def test_letter_then_reorder_with_new_id(emu: Emulator) -> None:
    mail_id, email = buy_mail(emu)
    assert email.endswith("@gmail.com")
    assert mail_id > 2**32
    ident = str(mail_id)
    assert api_json(emu, "checkMailActivation", id=ident) == {
        "status": "ERROR",
        "error": "WAIT_LINK",
    }
    assert api_json(emu, "checkMailActivation", id=ident, key=OTHER)["error"] == (
        "ACTIVATION_NOT_FOUND"
    )
    emu.deliver_mail(mail_id, "Confirm: https://apple.com/verify?t=abc. Code 482913")
    body = api_json(emu, "checkMailActivation", id=ident)
    assert body["status"] == "OK"
    assert body["response"]["value"] == "https://apple.com/verify?t=abc"
    assert body["response"]["full_message"].startswith("Confirm:")

    reordered = api_json(emu, "reorderMailActivation", id=ident)
    new_id = reordered["response"]["id"]
    assert new_id != mail_id
    assert reordered["response"]["email"] == email
    assert api_json(emu, "checkMailActivation", id=str(new_id))["error"] == "WAIT_LINK"
    emu.deliver_mail(new_id, "Your code is 777111")
    assert api_json(emu, "checkMailActivation", id=str(new_id))["response"]["value"] == "777111"

    history = api_json(emu, "getMailHistory")
    assert history["status"] == "OK"
    assert history["response"]["count"] == 2
    assert history["response"]["pages"] == 1
    first = history["response"]["list"][0]
    assert first["id"] == str(new_id)
    assert first["status"] == "5"
    assert all(isinstance(first[k], str) for k in ("id", "site", "email", "status", "cost"))
    assert api_json(emu, "getMailHistory", sort="asc")["response"]["list"][0]["id"] == ident
    assert api_json(emu, "getMailHistory", search="nothing")["response"]["count"] == 0


def test_cancel_and_expiry_refund(emu: Emulator) -> None:
    mail_id, _ = buy_mail(emu)
    other_id, _ = buy_mail(emu)
    assert emu.account(KEY).balance < Decimal(100)
    assert api_json(emu, "cancelMailActivation", id=str(mail_id)) == {
        "status": "OK",
        "response": True,
    }
    assert emu.mails[mail_id].status is MailStatus.CANCELLED
    assert api_json(emu, "reorderMailActivation", id=str(mail_id))["error"] == "BAD_STATUS"
    emu.advance(20 * 60)
    assert emu.mails[other_id].status is MailStatus.CANCELLED
    assert emu.account(KEY).balance == Decimal(100)
    assert api_json(emu, "checkMailActivation", id=str(other_id))["error"] == "STATUS_CANCEL"


def test_auto_letter(emu: Emulator) -> None:
    emu.config.auto_sms_delay = 3
    mail_id, _ = buy_mail(emu, site="discord.com")
    emu.advance(3)
    body = api_json(emu, "checkMailActivation", id=str(mail_id))
    assert body["response"]["value"].startswith("https://discord.com/confirm?token=")
    assert "verification code for discord.com" in body["response"]["full_message"]


def test_cancel_after_the_letter_closes_without_refund(emu: Emulator) -> None:
    """protocol.md §9.3: cancelling after a success ends the mailbox as status 6."""
    mail_id, _ = buy_mail(emu)
    ident = str(mail_id)
    emu.deliver_mail(mail_id, "Your code is 123456")
    paid = emu.account(KEY).balance
    assert api_json(emu, "cancelMailActivation", id=ident) == {"status": "OK", "response": True}
    assert emu.mails[mail_id].status is MailStatus.FINISHED
    assert emu.account(KEY).balance == paid  # the letter was delivered: nothing comes back
    # The letter stays readable; the mailbox takes no further letters or cancels.
    assert api_json(emu, "checkMailActivation", id=ident)["response"]["value"]
    assert api_json(emu, "reorderMailActivation", id=ident)["error"] == "BAD_STATUS"
    assert api_json(emu, "cancelMailActivation", id=ident)["error"] == "BAD_STATUS"
    history = api_json(emu, "getMailHistory")["response"]["list"]
    assert [entry["status"] for entry in history if entry["id"] == ident] == ["6"]
