"""A small Shopify Admin API client: GraphQL and REST over httpx, with the retry budget.

Django-free (shops.services builds one per shop from the settings). What it does with answers:

| answer                                  | what happens                                                |
|-----------------------------------------|-------------------------------------------------------------|
| 2xx                                     | returned                                                    |
| network error, timeout, 5xx             | retried: 300 → 600 → 1200 → 2400 ms (the retry budget)      |
| 429                                     | retried after `Retry-After` (capped), never sooner than the backoff |
| GraphQL error `THROTTLED`               | retried after the time the bucket needs to hold the query's cost |
| 401                                     | `on_unauthorized` is called, `Unauthorized` raised, no retry |
| other 4xx, other GraphQL errors         | `AdminAPIError` / `GraphQLError`, no retry                   |

Every wait goes through the injectable `sleep`, so tests check the spacing without waiting.
Access tokens travel only in the `X-Shopify-Access-Token` header and never appear in messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from timedify_ops.lib.retry import RetryBudget, parse_retry_after

USER_AGENT = "timedify-ops/1 (Shopify Admin API client)"
SHOP_NAME_QUERY = "{ shop { name } }"  # the cheapest authenticated query (cost 1)
EXCERPT_CHARS = 300


class AdminAPIError(Exception):
    """The Admin API refused or could not answer the request."""

    def __init__(self, message: str, *, status_code: int | None = None, attempts: int = 1):
        super().__init__(message)
        self.status_code = status_code
        self.attempts = attempts


class Unauthorized(AdminAPIError):
    """401: the access token is invalid or revoked. Never retried."""

    @classmethod
    def from_shop(cls, shop: str, *, attempts: int = 1) -> Unauthorized:
        return cls(
            f"401 Unauthorized from {shop}: the access token is invalid or revoked", status_code=401, attempts=attempts
        )


class RetryBudgetSpent(AdminAPIError):
    """Every attempt failed with a retryable answer (network, 5xx, 429, THROTTLED)."""


class GraphQLError(AdminAPIError):
    """The GraphQL endpoint answered 200 with errors that retrying will not fix."""

    def __init__(self, message: str, *, errors: list, data: Any = None, attempts: int = 1):
        super().__init__(message, status_code=200, attempts=attempts)
        self.errors = errors
        self.data = data


class TokenRefreshError(AdminAPIError):
    """The token endpoint refused the refresh token (e.g. `invalid_grant`): a merchant must reinstall."""


@dataclass(frozen=True)
class ThrottleStatus:
    """`extensions.cost` of a GraphQL answer."""

    requested_cost: float
    maximum_available: float
    currently_available: float
    restore_rate: float

    @classmethod
    def from_extensions(cls, extensions: Any) -> ThrottleStatus | None:
        try:
            cost = extensions["cost"]
            status = cost["throttleStatus"]
            return cls(
                requested_cost=float(cost.get("requestedQueryCost") or 0),
                maximum_available=float(status.get("maximumAvailable") or 0),
                currently_available=float(status.get("currentlyAvailable") or 0),
                restore_rate=float(status.get("restoreRate") or 0),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def wait_s(self) -> float | None:
        """Seconds until the bucket holds the requested cost (None when it cannot be told)."""
        if self.restore_rate <= 0:
            return None
        missing = self.requested_cost - self.currently_available
        return max(missing, 0.0) / self.restore_rate


@dataclass
class AdminResponse:
    status_code: int
    headers: httpx.Headers
    body: Any  # parsed JSON, or None for an empty/non-JSON body
    attempts: int
    throttle: ThrottleStatus | None = None


@dataclass(frozen=True)
class TokenGrant:
    """The token endpoint's answer (authorization code, token exchange or refresh grant)."""

    access_token: str
    scope: str = ""
    expires_in: int | None = None  # None: a non-expiring offline token
    refresh_token: str | None = None
    refresh_token_expires_in: int | None = None

    @classmethod
    def from_json(cls, body: Any) -> TokenGrant:
        if not isinstance(body, dict) or not body.get("access_token"):
            raise AdminAPIError("the token endpoint answered without an access_token")

        def seconds(name: str) -> int | None:
            value = body.get(name)
            return int(value) if value not in (None, "") else None

        return cls(
            access_token=str(body["access_token"]),
            scope=str(body.get("scope") or ""),
            expires_in=seconds("expires_in"),
            refresh_token=body.get("refresh_token") or None,
            refresh_token_expires_in=seconds("refresh_token_expires_in"),
        )

    def __repr__(self) -> str:  # never print the tokens
        refresh = bool(self.refresh_token)
        return f"TokenGrant(scope={self.scope!r}, expires_in={self.expires_in}, has_refresh_token={refresh})"


def admin_base_url(template: str, shop: str) -> str:
    """`https://{shop}` → `https://demo.myshopify.com`; a template without `{shop}` is used as is (tests)."""
    return template.replace("{shop}", shop).rstrip("/")


def _excerpt(response: httpx.Response) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.HTTPError):
        return ""
    return " ".join(text.split())[:EXCERPT_CHARS]


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def _throttled_errors(body: Any) -> bool:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return False
    for error in errors:
        if isinstance(error, dict):
            code = (error.get("extensions") or {}).get("code") if isinstance(error.get("extensions"), dict) else None
            if code == "THROTTLED" or str(error.get("message", "")).lower() == "throttled":
                return True
    return False


@dataclass
class _Try:
    """One try (RetryBudget.run): what it returned, or why another try may do better. An answer
    that retrying cannot fix raises inside the try instead."""

    reason: str = ""
    status_code: int | None = None
    retry_after_s: float | None = None  # Retry-After, or the time a GraphQL bucket needs
    result: Any = None

    @property
    def ok(self) -> bool:
        return self.result is not None

    retryable = True


def _spent(what: str, tries: list[_Try]) -> RetryBudgetSpent:
    last, attempts = tries[-1], len(tries)
    return RetryBudgetSpent(
        f"{what}{last.reason} after {attempts} attempt{'s' if attempts != 1 else ''} (retry budget spent)",
        status_code=last.status_code,
        attempts=attempts,
    )


@dataclass
class AdminClient:
    """One shop's Admin API. `on_unauthorized` runs on a 401 (shops marks the token invalid)."""

    shop: str
    access_token: str = field(repr=False)
    base_url_template: str = "https://{shop}"
    api_version: str = "2026-10"
    budget: RetryBudget = field(default_factory=RetryBudget)
    timeout_s: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    on_unauthorized: Callable[[], None] | None = None
    http: httpx.Client | None = None

    @property
    def base_url(self) -> str:
        return admin_base_url(self.base_url_template, self.shop)

    def _client(self) -> httpx.Client:
        if self.http is None:
            self.http = httpx.Client(timeout=self.timeout_s, follow_redirects=False, headers={"User-Agent": USER_AGENT})
        return self.http

    # ------------------------------------------------------------------ GraphQL

    def graphql(self, query: str, variables: dict | None = None) -> AdminResponse:
        """POST a GraphQL query; returns the answer whose `body["data"]` holds the result."""
        payload = {"query": query, **({"variables": variables} if variables else {})}
        url = f"{self.base_url}/admin/api/{self.api_version}/graphql.json"
        response = self._send("POST", url, json_body=payload, graphql=True)
        errors = response.body.get("errors") if isinstance(response.body, dict) else None
        if isinstance(errors, str | dict):
            errors = [errors]
        if errors:
            messages = "; ".join(
                str(error.get("message", error)) if isinstance(error, dict) else str(error) for error in errors
            )
            raise GraphQLError(
                f"GraphQL errors: {messages}"[:500],
                errors=errors,
                data=response.body.get("data"),
                attempts=response.attempts,
            )
        return response

    def check_token(self) -> str:
        """The cheapest authenticated query; returns the shop's name."""
        response = self.graphql(SHOP_NAME_QUERY)
        data = (response.body or {}).get("data") or {}
        return str((data.get("shop") or {}).get("name") or "")

    # ------------------------------------------------------------------ REST

    def rest(self, method: str, path: str, *, params: dict | None = None, json_body: Any = None) -> AdminResponse:
        """`rest("GET", "shop")` → GET /admin/api/<version>/shop.json."""
        path = path.strip("/")
        if not path.endswith(".json"):
            path += ".json"
        url = f"{self.base_url}/admin/api/{self.api_version}/{path}"
        return self._send(method.upper(), url, params=params, json_body=json_body)

    # ------------------------------------------------------------------ sending within the budget

    def _send(
        self, method: str, url: str, *, params: dict | None = None, json_body: Any = None, graphql: bool = False
    ) -> AdminResponse:
        """Send within the retry budget (RetryBudget.run).

        1. send; a network error or timeout is retryable;
        2. 401 → on_unauthorized(), raise Unauthorized;
        3. 429 or 5xx → retryable (429 waits at least its Retry-After, capped);
        4. GraphQL THROTTLED → retryable, waiting until the bucket holds the requested cost;
        5. other 4xx → AdminAPIError; 2xx → the answer;
        6. between tries wait the budget's backoff (lengthened by any server hint);
           after the last try raise RetryBudgetSpent naming the last failure.
        """
        headers = {"X-Shopify-Access-Token": self.access_token, "Accept": "application/json"}

        def try_once(attempt: int) -> _Try:
            try:
                response = self._client().request(method, url, params=params, json=json_body, headers=headers)
            except httpx.TimeoutException as error:
                return _Try(f"timeout ({type(error).__name__})")
            except httpx.HTTPError as error:
                return _Try(f"network error ({type(error).__name__})")
            status = response.status_code
            body = _json(response)
            throttle = ThrottleStatus.from_extensions(body.get("extensions")) if isinstance(body, dict) else None
            if status == 401:
                if self.on_unauthorized is not None:
                    self.on_unauthorized()
                raise Unauthorized.from_shop(self.shop, attempts=attempt)
            if status == 429:
                hint = parse_retry_after(response.headers.get("Retry-After"))
                if hint is None and throttle is not None:
                    hint = throttle.wait_s()
                return _Try("HTTP 429 (rate limited)", 429, hint)
            if 500 <= status <= 599:
                return _Try(f"HTTP {status}", status)
            if graphql and status == 200 and _throttled_errors(body):
                return _Try("GraphQL THROTTLED", 200, throttle.wait_s() if throttle else None)
            if not 200 <= status <= 299:
                raise AdminAPIError(
                    f"HTTP {status} from {self.shop} {method} {url.split('/admin/', 1)[-1]}: {_excerpt(response)}",
                    status_code=status,
                    attempts=attempt,
                )
            return _Try(
                result=AdminResponse(
                    status_code=status, headers=response.headers, body=body, attempts=attempt, throttle=throttle
                )
            )

        tries = self.budget.run(try_once, sleep=self.sleep)
        if tries[-1].ok:
            return tries[-1].result
        raise _spent("", tries)

    def close(self) -> None:
        if self.http is not None:
            self.http.close()


def refresh_access_token(
    *,
    shop: str,
    refresh_token: str,
    client_id: str,
    client_secret: str,
    base_url_template: str = "https://{shop}",
    budget: RetryBudget | None = None,
    timeout_s: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    http: httpx.Client | None = None,
) -> TokenGrant:
    """Shopify's refresh-token grant for expiring offline tokens.

    POST https://{shop}/admin/oauth/access_token with JSON
    {client_id, client_secret, grant_type: "refresh_token", refresh_token}; the answer carries
    access_token, expires_in, refresh_token, refresh_token_expires_in and scope. Network errors,
    429 and 5xx are retried within the budget; a 4xx (`invalid_grant` …) raises TokenRefreshError.
    """
    budget = budget or RetryBudget()
    client = http or httpx.Client(timeout=timeout_s, follow_redirects=False, headers={"User-Agent": USER_AGENT})
    url = f"{admin_base_url(base_url_template, shop)}/admin/oauth/access_token"
    payload = {
        "client_id": client_id,
        "client_secret": client_secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }

    def try_once(attempt: int) -> _Try:
        try:
            response = client.post(url, json=payload, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            return _Try(f"network error ({type(error).__name__})")
        status = response.status_code
        if status == 429:
            return _Try("HTTP 429 (rate limited)", 429, parse_retry_after(response.headers.get("Retry-After")))
        if 500 <= status <= 599:
            return _Try(f"HTTP {status}", status)
        body = _json(response)
        if not 200 <= status <= 299:
            reason = ""
            if isinstance(body, dict):
                reason = " ".join(str(body.get(key) or "") for key in ("error", "error_description")).strip()
            raise TokenRefreshError(
                f"the token refresh for {shop} was refused: HTTP {status} {reason}".strip()[:500],
                status_code=status,
                attempts=attempt,
            )
        return _Try(result=TokenGrant.from_json(body))

    try:
        tries = budget.run(try_once, sleep=sleep)
    finally:
        if http is None:
            client.close()
    if tries[-1].ok:
        return tries[-1].result
    raise _spent(f"token refresh for {shop}: ", tries)
