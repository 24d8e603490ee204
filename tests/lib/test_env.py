from datetime import timedelta

import pytest

from timedify_ops.lib.env import REQUIRED, ConfigError, Env, read_env_file


def test_a_missing_required_variable_is_named():
    with pytest.raises(ConfigError, match="WEBHOOK_TARGET_URL is not set"):
        Env({}).url("WEBHOOK_TARGET_URL")


def test_malformed_values_are_named():
    env = Env({"N": "ten", "B": "maybe", "U": "ftp://x", "M": "a=1,b"})
    with pytest.raises(ConfigError, match="N must be a whole number"):
        env.int("N")
    with pytest.raises(ConfigError, match="B must be one of"):
        env.bool("B")
    with pytest.raises(ConfigError, match="U must be an absolute http/https URL"):
        env.url("U")
    with pytest.raises(ConfigError, match="M must look like key=value"):
        env.mapping("M")


def test_a_short_secret_is_refused():
    with pytest.raises(ConfigError, match="TOKEN is too short"):
        Env({"TOKEN": "abc"}).secret("TOKEN")


def test_the_environment_overrides_development_defaults():
    env = Env({"A": "real"}, defaults={"A": "dev", "B": "dev"})
    assert env.str("A") == "real"
    assert env.str("B") == "dev"
    assert env.list("C", default=["x"]) == ["x"]
    assert env.mapping("D") == {}


def test_it_reads_an_env_file(tmp_path):
    path = tmp_path / "dev.env"
    path.write_text("# comment\nA=1\n\nB = two\n")
    assert read_env_file(path) == {"A": "1", "B": "two"}
    assert read_env_file(tmp_path / "missing.env") == {}


def test_a_required_value_names_what_it_is_for():
    with pytest.raises(ConfigError, match=r"^ALLOWED_HOSTS is not set \(comma-separated host names\)$"):
        Env({"ALLOWED_HOSTS": " , "}).list("ALLOWED_HOSTS", default=REQUIRED, hint="comma-separated host names")
    assert Env({}).list("ALLOWED_HOSTS", default=["localhost"]) == ["localhost"]


def test_mappings_of_urls_and_numbers_name_the_bad_item():
    env = Env({"U": "api=https://x.example.com/ping,shop=ftp://y", "N": "a=5,b=many", "NEG": "a=-1"})
    with pytest.raises(ConfigError, match=r"U\[shop\] must be an absolute http/https URL"):
        env.url_mapping("U")
    with pytest.raises(ConfigError, match=r"N\[b\] must be a number \(got 'many'\)"):
        env.number_mapping("N")
    with pytest.raises(ConfigError, match=r"NEG\[a\] must not be negative"):
        env.number_mapping("NEG")
    assert Env({"N": "a=5,b=2.5"}).number_mapping("N") == {"a": 5.0, "b": 2.5}


def test_fractions_durations_addresses_and_bounds_are_checked():
    env = Env({"F": "95", "D": "a day", "E": "ops@example.com,ops", "P": "150"})
    with pytest.raises(ConfigError, match="F must be a fraction between 0 and 1"):
        env.fraction("F", default=0.95)
    with pytest.raises(ConfigError, match="D: .*duration"):
        env.duration("D", default="24h")
    with pytest.raises(ConfigError, match="E: 'ops' is not an e-mail address"):
        env.emails("E")
    with pytest.raises(ConfigError, match="P must be at most 100"):
        env.int("P", minimum=1, maximum=100)
    assert Env({}).duration("D", default="90m") == timedelta(minutes=90)


def test_a_url_template_is_checked_with_its_placeholder_filled():
    env = Env({"BASE": "https://{shop}", "BAD": "{shop}/admin"})
    assert env.url("BASE", fill={"{shop}": "example.myshopify.com"}) == "https://{shop}"
    with pytest.raises(ConfigError, match="BAD must be an absolute http/https URL"):
        env.url("BAD", fill={"{shop}": "example.myshopify.com"})
