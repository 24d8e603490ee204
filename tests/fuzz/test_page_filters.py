"""Every page's filters under random query strings: never a server error.

The pages are every GET route of the URL conf (tests/security/urlsweep.py), so a page added
later is fuzzed too. Each page's filter names and sample values are read from the page itself
(its form fields, option values and the query strings of its links and htmx requests), joined
with names pages commonly read; values are those samples, or random and hostile text, numbers,
dates and cursors, sent percent-encoded as raw bytes (so also invalid UTF-8).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import nasty_text
from tests.security.urlsweep import ACCOUNT, project_routes
from tests.security.world import build_world

pytestmark = pytest.mark.django_db

COMMON_NAMES = [
    "after",
    "before",
    "cursor",
    "page",
    "q",
    "status",
    "topic",
    "shop",
    "range",
    "day",
    "date",
    "level",
    "text",
    "regex",
    "app",
    "preset",
    "started",
    "since",
    "until",
    "state",
    "action",
    "actor",
    "synthetic",
    "limit",
]
_NAME = re.compile(r"""\bname=["']([^"']+)["']""")
_VALUE = re.compile(r"""<option[^>]*\bvalue=["']([^"']*)["']""")
_QUERY = re.compile(r"""\b(?:href|hx-get|action)=["'][^"'?]*\?([^"']*)["']""")


@dataclass
class Page:
    path: str
    names: set[str] = field(default_factory=set)
    values: set[str] = field(default_factory=set)

    def learn(self, html: str) -> None:
        self.names.update(_NAME.findall(html))
        self.values.update(_VALUE.findall(html))
        for query in _QUERY.findall(html):
            for name, value in parse_qsl(query.replace("&amp;", "&"), keep_blank_values=True):
                self.names.add(name)
                self.values.add(value)


@pytest.fixture
def pages(settings, target, fast_budget, operator, empty_queue) -> dict[str, Page]:
    """Every page an operator can GET, with what it reveals about its filters."""
    world = build_world(settings=settings, target=target, operator=operator)
    client = Client()
    client.force_login(operator)
    found = {}
    for route in project_routes():
        if route.public or route.name in ACCOUNT:
            continue
        page = Page(world.path(route))
        response = client.get(page.path)
        if response.status_code != 200:
            continue  # POST-only actions, and pages that need their form's input (redirect)
        page.learn(response.content.decode())
        page.learn(client.get(page.path, HTTP_HX_REQUEST="true").content.decode())
        page.names.discard("csrfmiddlewaretoken")
        found[route.name] = page
    assert {"deadletters:list", "logs", "audit", "status", "slo", "shops", "schedules", "overview"} <= set(found)
    return found


def encode(text: str | bytes) -> str:
    raw = text if isinstance(text, bytes) else text.encode("utf-8", errors="surrogatepass")
    return quote(raw, safe="")


# What breaks filters most often: NUL (PostgreSQL refuses it in text), bytes that are not UTF-8,
# numbers past 64 bits, impossible dates, regex syntax, SQL quoting, very long values.
HOSTILE = [
    "\x00",
    "a\x00b",
    b"\xff\xfe",
    "\ud800",
    "9" * 40,
    "-1",
    "0",
    "2026-02-30",
    "2026-11-26T25:61:00",
    "(",
    "[a-",
    "*",
    "'\"",
    "1e309",
    "NaN",
    "a" * 3000,
    "",
]


def test_every_filter_of_every_page_takes_hostile_values(pages, operator):
    """Deterministic: each name a page reveals (and the keyset cursor) with each hostile value."""
    client = Client()
    client.force_login(operator)
    for page in pages.values():
        for key in sorted(page.names | {"after"}):
            for value in HOSTILE:
                response = client.get(f"{page.path}?{encode(key)}={encode(value)}")
                assert response.status_code < 500, (page.path, key, value)


@st.composite
def values(draw, page: Page) -> str | bytes:
    return draw(
        st.one_of(
            st.sampled_from(sorted(page.values) or [""]),
            nasty_text,
            st.integers(min_value=-(2**70), max_value=2**70).map(str),
            st.dates().map(str),
            st.datetimes().map(lambda moment: moment.isoformat()),
            st.binary(max_size=24).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),  # cursors
            st.binary(max_size=8),
        )
    )


@settings(max_examples=300)
@given(data=st.data())
def test_no_filter_makes_any_page_fail(pages, operator, data):
    name = data.draw(st.sampled_from(sorted(pages)), label="page")
    page = pages[name]
    keys = st.sampled_from(sorted(page.names | set(COMMON_NAMES))) | nasty_text
    pairs = data.draw(st.lists(st.tuples(keys, values(page)), max_size=6), label="query")
    htmx = data.draw(st.booleans(), label="htmx")
    query = "&".join(f"{encode(key)}={encode(value)}" for key, value in pairs)
    client = Client()
    client.force_login(operator)
    response = client.get(f"{page.path}?{query}", **({"HTTP_HX_REQUEST": "true"} if htmx else {}))
    assert response.status_code < 500


@pytest.mark.parametrize("path", ["/audit/?action=%00", "/audit/?actor=a%00b", "/shops/?q=x%00", "/alerts/?rule=%00"])
def test_a_nul_in_a_text_filter_is_explained_not_a_500(operator_client, path):
    """Found by the sweep above: PostgreSQL refuses NUL in text, so these pages failed with a 500."""
    response = operator_client.get(path)
    assert response.status_code == 200
    assert b"NUL character" in response.content
