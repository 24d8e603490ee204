import re
import subprocess
from pathlib import Path

from timedify_ops.lib import inventory
from timedify_ops.lib.inventory import compare, fingerprint, read_env_text, rows

SECRET = "shpss_0123456789abcdef0123456789abcdef"


def test_a_fingerprint_is_what_sha256sum_says_so_anyone_can_check_a_copy():
    shell = subprocess.run(
        ["sh", "-c", 'printf %s "$VALUE" | sha256sum | cut -c1-12'],
        env={"VALUE": SECRET, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert fingerprint(SECRET) == shell.stdout.strip()
    assert len(fingerprint(SECRET)) == 12


def test_rows_say_whether_each_variable_is_set_and_never_hold_its_value():
    found = {row.name: row for row in rows({"SHOPIFY_API_SECRET": SECRET, "HEARTBEATS": "backup=24h+2h"})}
    assert set(found) == {variable.name for variable in inventory.VARIABLES}
    assert found["SHOPIFY_API_SECRET"].set and found["SHOPIFY_API_SECRET"].fingerprint == fingerprint(SECRET)
    assert not found["METRICS_TOKEN"].set and found["METRICS_TOKEN"].fingerprint == ""
    assert SECRET not in repr([row.as_dict() for row in found.values()])


def test_a_required_variable_that_is_not_set_is_missing():
    production = {row.name: row for row in rows({}, production=True)}
    development = {row.name: row for row in rows({}, production=False)}
    assert production["METRICS_TOKEN"].missing and development["METRICS_TOKEN"].missing
    assert production["WEBHOOK_TARGET_URL"].missing  # required in production only
    assert not development["WEBHOOK_TARGET_URL"].missing
    assert not production["REDIS_URL"].missing


def test_it_compares_a_backed_up_copy_by_fingerprint():
    mine = rows({"SHOPIFY_API_SECRET": SECRET, "METRICS_TOKEN": "m-1", "LOG_INGEST_TOKEN": "l-1"})
    theirs = {"SHOPIFY_API_SECRET": fingerprint(SECRET), "METRICS_TOKEN": fingerprint("m-2"), "REDIS_URL": "ab12"}
    verdicts = {difference.name: difference.verdict for difference in compare(mine, theirs)}
    assert verdicts["SHOPIFY_API_SECRET"] == "same"
    assert verdicts["METRICS_TOKEN"] == "differs"
    assert verdicts["LOG_INGEST_TOKEN"] == "missing there"
    assert verdicts["REDIS_URL"] == "missing here"
    assert verdicts["DJANGO_SECRET_KEY"] == "unset on both"


def test_it_reads_an_env_file_as_backups_keep_them():
    text = "\n".join(
        [
            "# backup 2026-11-26",
            'export DJANGO_SECRET_KEY="abc=def"',
            "METRICS_TOKEN='m 1'",
            "",
            "LOG_INGEST_TOKEN=plain",
            "x",
        ]
    )
    assert read_env_text(text) == {"DJANGO_SECRET_KEY": "abc=def", "METRICS_TOKEN": "m 1", "LOG_INGEST_TOKEN": "plain"}


ROOT = Path(__file__).resolve().parents[2]


def settings_reads() -> dict[str, str]:
    """Every variable timedify_ops/settings.py reads, with the reader it uses (`secret`, `url` …)."""
    text = (ROOT / "timedify_ops" / "settings.py").read_text()
    return {name: kind for kind, name in re.findall(r'env\.(\w+)\(\s*"([A-Z0-9_]+)"', text)}


def test_every_secret_the_settings_read_is_in_the_inventory():
    reads = settings_reads()
    secrets_read = {name for name, kind in reads.items() if kind == "secret"}
    listed = {variable.name for variable in inventory.VARIABLES}
    assert secrets_read - listed == set()
    assert all(inventory.BY_NAME[name].secret for name in secrets_read)


def test_every_variable_in_the_inventory_is_read_by_the_settings_and_documented():
    reads = settings_reads()
    secrets_page = (ROOT / "docs" / "SECRETS.md").read_text()
    for variable in inventory.VARIABLES:
        assert variable.name in reads, f"{variable.name} is listed but the settings never read it"
        assert f"`{variable.name}`" in secrets_page, f"{variable.name} is missing from docs/SECRETS.md"
