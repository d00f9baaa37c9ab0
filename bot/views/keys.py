"""What the bot says about a message that carried an API key."""

from __future__ import annotations

from bot.i18n import gettext as _
from bot.provider.presets import Feature, ProviderPreset
from bot.texts import escape


def next_steps(preset: ProviderPreset) -> str:
    """What a freshly connected account can do, as commands: only what the provider sells."""
    steps = [_("/buy: a number for one code")]
    if preset.supports(Feature.RENT):
        steps.append(_("/rent: a number for hours or days"))
    if preset.supports(Feature.MAIL):
        steps.append(_("/mail: an e-mail address for a site"))
    return _("What next:") + "\n" + "\n".join(steps)


def deletion_note(deleted: bool) -> str:
    """The first line of every answer to a key: whether the message with it is gone."""
    if deleted:
        return _("I deleted your message with the key.")
    return "⚠️ " + _(
        "I could not delete your message with the key: delete it yourself now, and if anyone "
        "else may have seen it, create a new key in your provider's profile."
    )


def stray_key_text(deleted: bool) -> str:
    """A key pasted outside the key dialog: deleted, not read as the step's input."""
    return (
        deletion_note(deleted)
        + "\n"
        + _("To connect a provider account, send /key and choose the provider first.")
    )


def group_key_text(deleted: bool) -> str:
    """A key in a group: the others have seen it, so it must be replaced."""
    if deleted:
        text = _(
            "A key sent in a group is seen by everyone in it. I deleted the message, but create "
            "a new key in your provider's profile anyway and send it to me in a private chat."
        )
    else:
        text = _(
            "A key sent in a group is seen by everyone in it, and I could not delete the "
            "message: delete it now, create a new key in your provider's profile and send it "
            "to me in a private chat."
        )
    return "⚠️ " + text


def webhook_text(url: str, provider_title: str) -> str:
    """The user's own webhook URL, to paste into their provider profile."""
    return (
        _(
            "Codes arrive the moment they come if you paste this webhook URL into your "
            "{provider} profile:"
        ).format(provider=escape(provider_title))
        + f"\n<code>{escape(url)}</code>\n"
        + _("It is yours alone: share it with no one else. A new key gives a new URL.")
    )
