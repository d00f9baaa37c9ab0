"""What the user is told when a purchase whose answer was lost is settled later."""

from __future__ import annotations

from bot.i18n import gettext as _
from bot.texts import escape


def settled_text(provider: str, *, unsure: bool) -> str:
    """Nothing was bought; or (``unsure``) the provider could not say whether it was."""
    if unsure:
        text = _(
            "I could not find out from {provider} whether your last purchase went through. "
            "Check your balance and active numbers on the {provider} site before buying again."
        )
    else:
        text = _(
            "{provider} never confirmed your last purchase, and a minute later its list shows "
            "nothing new: nothing was bought and nothing was charged. You can try again."
        )
    return text.format(provider=escape(provider))
