"""Every URL of the project, found in the URL conf (so a page added later is swept too), with its
parameters filled in from real objects.

Used by the security sweep (tests/security) and the filter fuzzing (tests/fuzz).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib import admin
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

# Views that answer anonymous requests on purpose, each guarded in its own way.
PUBLIC = {
    "login": "the login form",
    "health": "Fly's health check: check names and ok/fail only",
    "metrics": "Prometheus text, only with METRICS_TOKEN",
    "webhooks:ingress": "Shopify's webhooks, only with a valid HMAC",
    "webhooks:ingress-topic": "the same, per-topic path",
    "logs-ingest": "the Fly log shipper, only with LOG_INGEST_TOKEN",
    "heartbeat": "outside jobs reporting in, only with HEARTBEAT_TOKEN",
    "heartbeat-start": "the same, a run starting",
    "heartbeat-fail": "the same, a run that failed",
}
# Views that skip the CSRF check because their callers are machines with their own credentials.
CSRF_EXEMPT = {
    "webhooks:ingress",
    "webhooks:ingress-topic",
    "logs-ingest",
    "heartbeat",
    "heartbeat-start",
    "heartbeat-fail",
}
# Every logged-in user may log themselves out or in again; these are not operator actions.
ACCOUNT = {"login", "logout", "admin:login", "admin:logout"}

_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass
class Route:
    name: str  # "namespace:name"
    route: str  # "deadletters/<int:pk>/"
    callback: object
    parameters: dict[str, str] = field(default_factory=dict)  # name → converter

    @property
    def public(self) -> bool:
        return self.name in PUBLIC

    @property
    def csrf_exempt(self) -> bool:
        return bool(getattr(self.callback, "csrf_exempt", False))

    @property
    def login_required(self) -> bool:
        return getattr(self.callback, "login_required", True)


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            if pattern.namespace and namespace:
                inner = f"{namespace}:{pattern.namespace}"
            if inner == "admin":
                continue  # Django's admin: swept through its model registry, see admin_paths()
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            assert isinstance(pattern.pattern, RoutePattern), f"{prefix}{pattern.pattern}: only path() routes here"
            route = prefix + str(pattern.pattern)
            name = f"{namespace}:{pattern.name}" if namespace else (pattern.name or route)
            parameters = {m["name"]: m["converter"] or "str" for m in _PARAMETER.finditer(route)}
            yield Route(name=name, route=route, callback=pattern.callback, parameters=parameters)


def project_routes() -> list[Route]:
    """Every path() of the project (the admin excluded)."""
    return list(_walk(get_resolver().url_patterns))


@dataclass
class World:
    """The real objects URL parameters are taken from (filled by the `world` fixture)."""

    objects: dict[type[models.Model], models.Model] = field(default_factory=dict)
    # A `pk` belongs to the model of the longest route prefix that matches.
    pk_owners: list[tuple[str, type[models.Model]]] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # parameter name → value (key, day, topic …)

    def value(self, route: Route, name: str) -> str | None:
        if name in self.values:
            return self.values[name]
        if name == "pk":
            owners = [(prefix, model) for prefix, model in self.pk_owners if route.route.startswith(prefix)]
            if owners:
                model = max(owners, key=lambda owner: len(owner[0]))[1]
                if model in self.objects:
                    return str(self.objects[model].pk)
        return None

    def path(self, route: Route) -> str | None:
        """The route with every parameter filled from a real object; None if one is unknown."""
        path = route.route
        for name in route.parameters:
            value = self.value(route, name)
            if value is None:
                return None
            path = _PARAMETER.sub(lambda m, name=name, value=value: value if m["name"] == name else m[0], path)
        return "/" + path

    def fallback_path(self, route: Route) -> str:
        """The route with made-up parameters (auth must hold whether or not the object exists)."""
        return self.path(route) or "/" + _PARAMETER.sub(lambda m: "1" if m["converter"] == "int" else "x", route.route)


def admin_paths(world: World) -> list[tuple[str, str]]:
    """(name, path) for Django's admin: its own pages and, per registered model, the changelist,
    the add form and, for a model with a row, its change, delete and history pages."""
    paths = [
        (name, reverse(f"admin:{name}"))
        for name in ("index", "login", "logout", "password_change", "password_change_done", "jsi18n", "autocomplete")
    ]
    apps = set()
    for model in admin.site._registry:
        meta = model._meta
        apps.add(meta.app_label)
        base = f"admin:{meta.app_label}_{meta.model_name}"
        paths += [(f"{base}_changelist", reverse(f"{base}_changelist")), (f"{base}_add", reverse(f"{base}_add"))]
        row = model._default_manager.order_by("pk").first()
        if row is not None:
            for action in ("change", "delete", "history"):
                paths.append((f"{base}_{action}", reverse(f"{base}_{action}", args=[row.pk])))
    paths += [("app_list", reverse("admin:app_list", args=[label])) for label in sorted(apps)]
    return [(name if name.startswith("admin:") else f"admin:{name}", path) for name, path in paths]
