"""Property-based tests (hypothesis): shared settings and strategies.

Examples per test stay modest so the suite stays fast; each test sets its own `max_examples`.
No example database is written (CI starts from a clean clone; a failure prints its example and
the `@reproduce_failure` blob to rerun it). HYPOTHESIS_PROFILE=thorough runs ten times more.
"""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile(
    "proof",
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("thorough", parent=settings.get_profile("proof"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "proof"))

# What a WSGI server hands over as a header value: latin-1 text without control characters
# (gunicorn refuses CR, LF, NUL and the other controls with a 400 before Django sees them).
header_value = st.text(
    alphabet=st.characters(min_codepoint=0x09, max_codepoint=0xFF, exclude_categories=["Cc"]) | st.just("\t"),
    max_size=300,
)
header_name = st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,30}\Z")

# Any text, including what breaks naive code: NUL, lone surrogates, right-to-left marks, huge numbers.
nasty_text = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\ud800",
            "'; DROP TABLE webhooks_webhookevent; --",
            "%00",
            "%",
            "..",
            "../../etc/passwd",
            "<script>alert(1)</script>",
            "9" * 40,
            "-1",
            "0",
            "1e309",
            "NaN",
            "2026-13-45",
            "2026-02-30T25:61:00Z",
            "\u202e",
            "*",
            "(",
            "[",
            "\\",
            "a" * 2000,
        ]
    ),
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)


@st.composite
def encoded_bodies(draw) -> bytes:
    """Bodies as a sender might encode them: JSON in UTF-8 (mostly), UTF-16 or Latin-1, raw bytes,
    or text that is not JSON at all."""
    kind = draw(st.sampled_from(["json-utf8", "json-utf8", "json-other", "bytes", "text"]))
    if kind == "json-utf8":
        return json.dumps(draw(json_values), ensure_ascii=draw(st.booleans())).encode("utf-8")
    if kind == "json-other":
        text = json.dumps(draw(json_values), ensure_ascii=False)
        encoding = draw(st.sampled_from(["utf-16", "utf-16-le", "latin-1", "utf-8-sig"]))
        return text.encode(encoding, errors="replace")
    if kind == "bytes":
        return draw(st.binary(max_size=2500))
    return draw(st.text(max_size=500)).encode("utf-8", errors="surrogatepass")
