"""The application's providers: which ones users may choose, and a client for (provider, key).

One ``httpx.AsyncClient`` serves every real provider; the sandbox gets its own client whose
transport is the in-process emulator. Clients are cheap wrappers made per request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx
from pydantic import SecretStr

from bot.provider.client import ProviderClient
from bot.provider.presets import Feature, ProviderPreset
from bot.provider.transport import RequestGate, RequestObserver


class UnknownProvider(LookupError):
    """The user's stored provider is no longer offered by this bot (SMS_PROVIDERS changed)."""


class ProviderHub:
    def __init__(
        self,
        presets: Sequence[ProviderPreset],
        http: httpx.AsyncClient,
        *,
        special: dict[str, httpx.AsyncClient] | None = None,
        observer: RequestObserver | None = None,
        gate_for: Callable[[str, SecretStr], RequestGate | None] | None = None,
        read_retries: int = 3,
    ) -> None:
        self._presets = {preset.name: preset for preset in presets}
        self._http = http
        self._special = dict(special or {})
        self._observer = observer
        self._gate_for = gate_for
        self._read_retries = read_retries

    @property
    def presets(self) -> list[ProviderPreset]:
        return list(self._presets.values())

    def preset(self, name: str) -> ProviderPreset | None:
        return self._presets.get(name)

    def supports(self, name: str, feature: Feature) -> bool:
        preset = self._presets.get(name)
        return preset is not None and preset.supports(feature)

    def client(self, provider: str, api_key: SecretStr) -> ProviderClient:
        preset = self._presets.get(provider)
        if preset is None:
            raise UnknownProvider(provider)
        gate = self._gate_for(provider, api_key) if self._gate_for is not None else None
        return ProviderClient(
            self._special.get(provider, self._http),
            preset.url,
            api_key,
            read_retries=self._read_retries,
            observer=self._observer,
            gate=gate,
        )

    async def aclose(self) -> None:
        await self._http.aclose()
        for http in self._special.values():
            await http.aclose()
