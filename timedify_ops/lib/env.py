"""Strict readers for environment variables.

Every reader names the variable in its error, so a misconfigured machine stops
at start-up with a message an operator can act on (settings.py is the consumer).
The readers check the format of a value; whether a value makes sense for a room
(a probe name that is free, an SLO threshold that is a histogram edge) is that
room's system check.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import urlsplit

from timedify_ops.lib.durations import parse_duration


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


_MISSING = object()
# A reader's default that says "required": `env.url("X", default=dev_value if DEBUG else REQUIRED)`.
REQUIRED = _MISSING
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env:
    """Reads variables from a mapping (os.environ by default) with fallbacks.

    `defaults` supplies development values (var/dev.env) that the real
    environment always overrides.
    """

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        defaults: Mapping[str, str] | None = None,
    ):
        self.environ = os.environ if environ is None else environ
        self.defaults = dict(defaults or {})

    def raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is None or value == "":
            value = self.defaults.get(name)
        if value is None or value == "":
            return None
        return value.strip()

    def str(self, name: str, default=_MISSING) -> str:
        value = self.raw(name)
        if value is None:
            if default is _MISSING:
                raise ConfigError(f"{name} is not set")
            return default
        return value

    @staticmethod
    def _not_set(name: str, hint: str) -> ConfigError:
        return ConfigError(f"{name} is not set" + (f" ({hint})" if hint else ""))

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off (got {value!r})")

    def int(self, name: str, default=_MISSING, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            if default is _MISSING:
                raise ConfigError(f"{name} is not set")
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number (got {value!r})") from None
        if minimum is not None and number < minimum:
            raise ConfigError(f"{name} must be at least {minimum} (got {number})")
        if maximum is not None and number > maximum:
            raise ConfigError(f"{name} must be at most {maximum} (got {number})")
        return number

    def float(self, name: str, default=_MISSING, *, minimum: float | None = None) -> float:
        value = self.raw(name)
        if value is None:
            if default is _MISSING:
                raise ConfigError(f"{name} is not set")
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{name} must be a number (got {value!r})") from None
        if minimum is not None and number < minimum:
            raise ConfigError(f"{name} must be at least {minimum} (got {number})")
        return number

    def fraction(self, name: str, default: float) -> float:
        """A share strictly between 0 and 1 (an SLO objective)."""
        number = self.float(name, default=default)
        if not 0 < number < 1:
            raise ConfigError(f"{name} must be a fraction between 0 and 1, e.g. 0.995 (got {number})")
        return number

    def duration(self, name: str, default: str) -> timedelta:
        """`90m`, `24h`, `7d`; a bare number is hours."""
        try:
            return parse_duration(self.str(name, default=default))
        except ValueError as error:
            raise ConfigError(f"{name}: {error}") from None

    def list(self, name: str, default=None, *, hint: str = "") -> list[str]:
        """Comma-separated values; with default REQUIRED, at least one."""
        value = self.raw(name)
        items = [item.strip() for item in value.split(",") if item.strip()] if value is not None else []
        if not items:
            if default is _MISSING:
                raise self._not_set(name, hint)
            return list(default or [])
        return items

    def emails(self, name: str) -> list[str]:
        """Comma-separated e-mail addresses (none when unset)."""
        addresses = self.list(name)
        for address in addresses:
            if "@" not in address.strip("@"):
                raise ConfigError(f"{name}: {address!r} is not an e-mail address")
        return addresses

    def secret(self, name: str, default=_MISSING, *, min_length: int = 16) -> str:
        value = self.raw(name)
        if value is None:
            if default is _MISSING:
                raise ConfigError(f"{name} is not set (it is a secret: generate one, e.g. `openssl rand -hex 32`)")
            return default
        if len(value) < min_length:
            raise ConfigError(f"{name} is too short: at least {min_length} characters are required")
        return value

    def url(
        self,
        name: str,
        default=_MISSING,
        *,
        schemes: tuple[str, ...] = ("http", "https"),
        hint: str = "",
        fill: Mapping[str, str] | None = None,
    ) -> str:
        """An absolute URL; `fill` stands in for placeholders while checking (`{shop}` → a shop domain)."""
        value = self.raw(name)
        if value is None:
            if default is _MISSING:
                raise self._not_set(name, hint)
            return default
        checked = value
        for placeholder, example in (fill or {}).items():
            checked = checked.replace(placeholder, example)
        check_url(name, checked, schemes)
        return value

    def mapping(self, name: str) -> dict[str, str]:
        """`key=value,key2=value2` (used for per-topic target overrides)."""
        value = self.raw(name)
        if value is None:
            return {}
        result = {}
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            key, sep, val = item.partition("=")
            if not sep or not key.strip() or not val.strip():
                raise ConfigError(f"{name} must look like key=value,key2=value2 (bad item {item!r})")
            result[key.strip()] = val.strip()
        return result

    def url_mapping(self, name: str) -> dict[str, str]:
        """`key=https://…,key2=https://…`: every value an absolute http/https URL."""
        mapping = self.mapping(name)
        for key, url in mapping.items():
            check_url(f"{name}[{key}]", url)
        return mapping

    def number_mapping(self, name: str) -> dict[str, float]:
        """`key=50,key2=2.5`: every value a number, none negative."""
        numbers = {}
        for key, raw in self.mapping(name).items():
            try:
                numbers[key] = float(raw)
            except ValueError:
                raise ConfigError(f"{name}[{key}] must be a number (got {raw!r})") from None
            if numbers[key] < 0:
                raise ConfigError(f"{name}[{key}] must not be negative (got {raw!r})")
        return numbers


def check_url(name: str, value: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ConfigError(f"{name} is not a valid URL (got {value!r})") from None
    if parts.scheme not in schemes or not parts.netloc:
        allowed = "/".join(schemes)
        raise ConfigError(f"{name} must be an absolute {allowed} URL (got {value!r})")
    return value


def read_env_file(path) -> dict[str, str]:
    """Parse a KEY=VALUE file (comments and blank lines ignored)."""
    values: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if not line or line.startswith("#") or "=" not in line:
                    continue
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
    except FileNotFoundError:
        pass
    return values
