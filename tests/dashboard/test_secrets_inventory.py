"""manage.py secrets_inventory: the table, the JSON, and a backed-up copy checked by fingerprint."""

import json

import pytest
from django.core.management import call_command

from timedify_ops.lib.inventory import VARIABLES, fingerprint

REQUIRED = {
    "DJANGO_SECRET_KEY": "k" * 40,
    "SHOPIFY_API_SECRET": "shpss_backup_check_0123456789",
    "LOG_INGEST_TOKEN": "log-token-0123456789",
    "METRICS_TOKEN": "metrics-token-0123456789",
    "ALLOWED_HOSTS": "timedify-ops.fly.dev",
    "WEBHOOK_TARGET_URL": "https://app.example.com/webhooks",
    "APP_HEALTH_URL": "https://app.example.com/health",
}


def run(*args, capsys) -> tuple[int, str, str]:
    try:
        call_command("secrets_inventory", *args)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def production_env(monkeypatch):
    for variable in VARIABLES:
        monkeypatch.delenv(variable.name, raising=False)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEY", "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=")


def test_it_lists_every_variable_with_its_fingerprint_and_never_a_value(production_env, capsys):
    code, out, err = run(capsys=capsys)
    assert code == 0, err
    for variable in VARIABLES:
        assert variable.name in out
    assert fingerprint(REQUIRED["SHOPIFY_API_SECRET"]) in out
    for value in REQUIRED.values():
        if len(value) > 12:  # a host name is shorter than nothing to worry about; secrets are long
            assert value not in out


def test_a_variable_start_up_needs_that_is_not_set_exits_1(production_env, monkeypatch, capsys):
    monkeypatch.delenv("METRICS_TOKEN")
    code, out, err = run(capsys=capsys)
    assert code == 1
    assert "not set, but needed: METRICS_TOKEN" in err
    assert "MISSING" in out


def test_a_backed_up_copy_is_checked_against_production_by_fingerprint(production_env, tmp_path, capsys):
    code, out, _ = run("--json", capsys=capsys)
    assert code == 0
    production = tmp_path / "prod.json"
    production.write_text(out)
    assert all(REQUIRED["METRICS_TOKEN"] not in line for line in out.splitlines())

    backup = tmp_path / "backup.env"
    backup.write_text("".join(f'{name}="{value}"\n' for name, value in REQUIRED.items()))
    # The backup lacks the token key: it is set in production, so restoring from this copy would lose it.
    code, out, err = run("--env-file", str(backup), "--compare", str(production), capsys=capsys)
    assert code == 1
    assert "TOKEN_ENCRYPTION_KEY (missing here)" in err

    backup.write_text(backup.read_text() + "TOKEN_ENCRYPTION_KEY=Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=\n")
    code, out, err = run("--env-file", str(backup), "--compare", str(production), capsys=capsys)
    assert code == 0, err
    assert out.count("same") == len(REQUIRED) + 1

    backup.write_text(backup.read_text().replace(REQUIRED["METRICS_TOKEN"], "an-old-metrics-token"))
    code, _, err = run("--env-file", str(backup), "--compare", str(production), capsys=capsys)
    assert code == 1 and "METRICS_TOKEN (differs)" in err


def test_the_json_names_the_fingerprint_of_each_set_variable(production_env, capsys):
    _, out, _ = run("--json", capsys=capsys)
    payload = json.loads(out)
    by_name = {item["name"]: item for item in payload["variables"]}
    assert by_name["LOG_INGEST_TOKEN"]["fingerprint"] == fingerprint(REQUIRED["LOG_INGEST_TOKEN"])
    assert by_name["REDIS_URL"] == {**by_name["REDIS_URL"], "set": False, "fingerprint": ""}


def test_an_unreadable_file_exits_2(production_env, tmp_path, capsys):
    code, _, err = run("--env-file", str(tmp_path / "nope.env"), capsys=capsys)
    assert code == 2 and "cannot read" in err
