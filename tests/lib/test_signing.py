import base64
import hashlib
import hmac

from timedify_ops.lib import signing


def test_it_signs_like_shopify():
    body = b'{"id": 1}'
    expected = base64.b64encode(hmac.new(b"secret", body, hashlib.sha256).digest()).decode()
    assert signing.sign(body, "secret") == expected


def test_it_accepts_the_current_or_the_previous_secret():
    body = b'{"id": 1}'
    assert signing.verify(body, signing.sign(body, "new"), ["new", "old"])
    assert signing.verify(body, signing.sign(body, "old"), ["new", "old"])
    assert not signing.verify(body, signing.sign(body, "other"), ["new", "old"])


def test_it_rejects_a_missing_or_non_ascii_signature():
    assert not signing.verify(b"{}", None, ["s"])
    assert not signing.verify(b"{}", "", ["s"])
    assert not signing.verify(b"{}", "é", ["s"])


def test_it_ignores_an_empty_previous_secret():
    body = b"{}"
    assert not signing.verify(body, signing.sign(body, ""), ["current", ""])


def test_it_reads_a_bearer_token():
    assert signing.bearer_token("Bearer abc") == "abc"
    assert signing.bearer_token("bearer  abc ") == "abc"
    assert signing.bearer_token("Basic abc") is None
    assert signing.bearer_token("Bearer ") is None
    assert signing.bearer_token(None) is None


def test_it_compares_tokens():
    assert signing.constant_time_equals("a" * 20, "a" * 20)
    assert not signing.constant_time_equals("a" * 20, "b" * 20)
    assert not signing.constant_time_equals("", "")
