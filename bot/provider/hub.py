"""The application's providers: which ones users may choose, and a client for (provider, key).

Each provider may have its own ``httpx.AsyncClient`` (the application gives every real
provider one, and the sandbox one whose transport is the in-process emulator), and each has its
own lane (:mod:`bot.provider.lane`): a provider that hangs fills its own pool and lane, never
another provider's. Clients are cheap wrappers made per request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx
from pydantic import SecretStr

from bot.provider.client import ProviderClient
from bot.provider.lane import ProviderLane
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
        owns_http: bool = True,
    ) -> None:
        self._presets = {preset.name: preset for preset in presets}
        self._http = http
        self._special = dict(special or {})
        self._observer = observer
        self._gate_for = gate_for
        self._read_retries = read_retries
        self._lanes = {name: ProviderLane() for name in self._presets}
        self._owns_http = owns_http

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
            lane=self._lanes[provider],
        )

    def lane(self, provider: str) -> ProviderLane | None:
        return self._lanes.get(provider)

    def background(self) -> ProviderHub:
        """The same providers, connections and budget, through lanes of their own: the
        worker's steady polling never takes the places a user's request needs."""
        return ProviderHub(
            list(self._presets.values()),
            self._http,
            special=self._special,
            observer=self._observer,
            gate_for=self._gate_for,
            read_retries=self._read_retries,
            owns_http=False,  # the connections stay this hub's to close
        )

    async def aclose(self) -> None:
        if not self._owns_http:
            return
        await self._http.aclose()
        for http in self._special.values():
            if http is not self._http:
                await http.aclose()
