import pytest

from timedify_ops.lib.env import ConfigError, Env, read_env_file


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
