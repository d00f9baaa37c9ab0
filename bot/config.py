"""Settings: one object, read from the environment and ``.env``, built once in main.

The environment names are a contract (README, docker-compose, external checks), so every field
is read from exactly the upper-case name of its alias.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.provider.presets import SANDBOX_PRESETS, ProviderPreset, parse_providers

SUPPORTED_LOCALES = ("en", "ru")
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Secrets that travel in URLs and headers: long enough not to be guessed, safe in a path.
_URL_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")

_PUBLIC_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$")

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    bot_token: SecretStr | None = Field(default=None, alias="BOT_TOKEN")
    telegram_api_base: str | None = Field(default=None, alias="TELEGRAM_API_BASE")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    data_dir: Path = Field(default=Path("./data"), alias="DATA_DIR")
    sms_providers: str | None = Field(default=None, alias="SMS_PROVIDERS")
    poll_interval: float = Field(default=5.0, gt=0, alias="POLL_INTERVAL")
    secret_key: SecretStr | None = Field(default=None, alias="SECRET_KEY")
    sandbox: bool = Field(default=False, alias="SANDBOX")
    log_level: LogLevel = Field(default="INFO", alias="LOG_LEVEL")
    default_locale: str = Field(default="en", alias="DEFAULT_LOCALE")
    run_worker: bool = Field(default=True, alias="RUN_WORKER")
    provider_rps: int = Field(default=40, ge=0, alias="PROVIDER_RPS")
    provider_timeout: float = Field(default=15.0, gt=0, le=300, alias="PROVIDER_TIMEOUT")
    # Seconds one account may take to price an offer when /buy compares the user's accounts.
    offer_timeout: float = Field(default=4.0, gt=0, le=60, alias="OFFER_TIMEOUT")
    auto_cancel: bool = Field(default=True, alias="AUTO_CANCEL")
    auto_cancel_before: float = Field(default=60.0, ge=10, alias="AUTO_CANCEL_BEFORE")
    http_host: str = Field(default="127.0.0.1", alias="HTTP_HOST")
    http_port: int = Field(default=8080, ge=0, le=65535, alias="HTTP_PORT")
    # python -m bot.worker's own endpoint: none by default, so workers run beside the bot
    # (which has HTTP_PORT) on one host without fighting over a port.
    worker_http_port: int = Field(default=0, ge=0, le=65535, alias="WORKER_HTTP_PORT")
    provider_webhook_secret: SecretStr | None = Field(
        default=None, alias="PROVIDER_WEBHOOK_SECRET"
    )
    public_url: str | None = Field(default=None, alias="PUBLIC_URL")
    webhook_url: str | None = Field(default=None, alias="WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, alias="WEBHOOK_SECRET")
    admin_ids_text: str = Field(default="", alias="ADMIN_IDS")
    log_format: Literal["json", "text"] = Field(default="json", alias="LOG_FORMAT")
    telegram_rate: int = Field(default=25, ge=1, alias="TELEGRAM_RATE")
    telegram_chat_interval: float = Field(default=1.0, ge=0, alias="TELEGRAM_CHAT_INTERVAL")
    throttle_rate: int = Field(default=8, ge=1, alias="THROTTLE_RATE")
    throttle_window: float = Field(default=4.0, gt=0, alias="THROTTLE_WINDOW")
    # Seconds an update may wait on the provider before a tap is answered and "typing" shown.
    slow_reply_after: float = Field(default=1.0, ge=0, alias="SLOW_REPLY_AFTER")
    rent_reminder: float = Field(default=3600.0, ge=0, alias="RENT_REMINDER")
    # Seconds a confirmation ("Buy for 0.45") may be tapped before it must be shown afresh.
    quote_ttl: float = Field(default=300.0, ge=30, le=3600, alias="QUOTE_TTL")

    @field_validator(
        "telegram_api_base",
        "redis_url",
        "sms_providers",
        "public_url",
        "provider_webhook_secret",
        "webhook_url",
        "webhook_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("secret_key")
    @classmethod
    def _usable_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        raw = value.get_secret_value() if value is not None else ""
        if raw and (len(raw) < 16 or raw != raw.strip() or not raw.isprintable()):
            raise ValueError(
                "SECRET_KEY must be at least 16 printable characters, with no spaces around "
                "it (for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return value

    @field_validator("provider_webhook_secret", "webhook_secret")
    @classmethod
    def _url_safe_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        raw = value.get_secret_value() if value is not None else None
        if raw is not None and not _URL_SECRET.match(raw):
            name = (
                "PROVIDER_WEBHOOK_SECRET"
                if info.field_name == "provider_webhook_secret"
                else "WEBHOOK_SECRET"
            )
            raise ValueError(f"{name} must be 16-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("public_url")
    @classmethod
    def _http_public_url(cls, value: str | None) -> str | None:
        # Shown to users inside their webhook URLs: a plain http(s) address, nothing else.
        if value is not None and not _PUBLIC_URL.match(value):
            raise ValueError(
                "PUBLIC_URL must be an http(s) address such as https://bot.example.com"
            )
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        locale = value.strip().lower()
        if locale not in SUPPORTED_LOCALES:
            raise ValueError(f"DEFAULT_LOCALE must be one of {', '.join(SUPPORTED_LOCALES)}")
        return locale

    @field_validator("admin_ids_text")
    @classmethod
    def _admin_ids(cls, value: str) -> str:
        for part in value.replace(";", ",").split(","):
            if part.strip() and not part.strip().lstrip("-").isdigit():
                raise ValueError("ADMIN_IDS is a comma-separated list of Telegram user ids")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url is None:
            return self
        if not self.webhook_url.startswith("https://") and not self.webhook_url.startswith(
            "http://"
        ):
            raise ValueError("WEBHOOK_URL must be an http(s) URL")
        if self.http_port == 0:
            raise ValueError("WEBHOOK_URL needs the HTTP endpoint: set HTTP_PORT")
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if not _WEBHOOK_SECRET.match(secret):
            raise ValueError(
                "WEBHOOK_URL needs WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        return self

    @property
    def admin_ids(self) -> frozenset[int]:
        parts = self.admin_ids_text.replace(";", ",").split(",")
        return frozenset(int(part) for part in parts if part.strip())

    @field_validator("sms_providers")
    @classmethod
    def _valid_providers(cls, value: str | None) -> str | None:
        parse_providers(value)
        return value

    @property
    def providers(self) -> list[ProviderPreset]:
        """The providers users may choose, the demo ones last when the sandbox is on."""
        providers = parse_providers(self.sms_providers)
        if self.sandbox:
            providers.extend(SANDBOX_PRESETS)
        return providers

    def provider(self, name: str) -> ProviderPreset | None:
        return next((p for p in self.providers if p.name == name), None)
