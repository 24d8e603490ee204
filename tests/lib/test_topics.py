from timedify_ops.lib.topics import DEFAULT_TOPICS


def test_the_default_topics_are_the_six_of_the_contract():
    assert DEFAULT_TOPICS == (
        "app/uninstalled",
        "app/scopes_update",
        "customers/data_request",
        "customers/redact",
        "shop/redact",
        "app_subscriptions/update",
    )
