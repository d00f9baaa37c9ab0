"""Mail actions: mailboxes bought for one site, the letters they receive, their history."""

from __future__ import annotations

from typing import Any

from bot.provider.actions.base import ActionBase
from bot.provider.errors import StateAnswer
from bot.provider.models import MailActivation, MailCheck, MailDomains, MailHistory, MailType
from bot.provider.parsing import Answer


class MailActions(ActionBase):
    def _mail_response(self, action: str, answer: Answer) -> Any:
        return self._object(action, answer).get("response")

    async def get_domains(self, site: str) -> MailDomains:
        action = "getDomains"
        answer = await self._call(action, site=site)
        response = self._mail_response(action, answer) or {}
        return self._model(action, MailDomains, response, answer.raw)

    async def buy_mail_activation(
        self, site: str, mail_type: MailType, mail_domain: str
    ) -> MailActivation:
        action = "buyMailActivation"
        answer = await self._call(
            action, site=site, mail_type=int(mail_type), mail_domain=mail_domain
        )
        return self._model(action, MailActivation, self._mail_response(action, answer), answer.raw)

    async def reorder_mail_activation(self, mail_id: int) -> MailActivation:
        """Wait for another letter on the same mailbox; the answer carries a new id."""
        action = "reorderMailActivation"
        answer = await self._call(action, id=mail_id)
        return self._model(action, MailActivation, self._mail_response(action, answer), answer.raw)

    async def get_mail_history(
        self,
        *,
        page: int | None = None,
        per_page: int | None = None,
        search: str | None = None,
        sort: str | None = None,
    ) -> MailHistory:
        action = "getMailHistory"
        answer = await self._call(action, page=page, per_page=per_page, search=search, sort=sort)
        response = self._mail_response(action, answer) or {}
        return self._model(action, MailHistory, response, answer.raw)

    async def cancel_mail_activation(self, mail_id: int) -> None:
        action = "cancelMailActivation"
        answer = await self._call(action, id=mail_id)
        self._object(action, answer)

    async def check_mail_activation(self, mail_id: int) -> MailCheck:
        action = "checkMailActivation"
        try:
            answer = await self._call(action, id=mail_id)
        except StateAnswer as state:
            if state.token == "WAIT_LINK":
                return MailCheck(received=False)
            raise
        response = self._mail_response(action, answer)
        if isinstance(response, dict):
            value = response.get("value")
            full = response.get("full_message")
        else:
            value, full = response, None
        value_text = str(value) if value not in (None, "") else None
        full_text = str(full) if full not in (None, "") else None
        if value_text is None and full_text is None:
            return MailCheck(received=False)
        return MailCheck(received=True, value=value_text, full_message=full_text)
