"""manage.py logs_watch: output, colours, exit codes, and the `fly logs` source (a real subprocess)."""

import io
import os
import pty
import select
import subprocess
import sys
import textwrap
import time

import pytest
from django.core.management import CommandError, call_command

from dashboard.logs import records
from tests.live import ROOT, subprocess_env
from tests.logs.conftest import add_lines


def watch(*args, **options) -> tuple[str, str, int]:
    """Run the command in this process; returns stdout, stderr and the exit code."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("logs_watch", *args, stdout=out, stderr=err, **options)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return out.getvalue(), err.getvalue(), code


@pytest.mark.django_db
def test_it_prints_matching_lines_plain_when_not_a_terminal():
    add_lines("GET /health 200", "Received APP/UNINSTALLED shop=a", app="timedify", region="fra")
    add_lines("other app line", app="elsewhere")
    out, err, code = watch("0", "--lines", "50", "--app", "timedify", "--filter", "app/")
    assert code == 0
    assert "\x1b[" not in out
    [line] = out.splitlines()
    assert line.endswith("timedify fra 148e453f INFO     [app/uninstalled] Received APP/UNINSTALLED shop=a")
    assert "logs_watch: 1 line in 0 s" in err


@pytest.mark.django_db
def test_force_color_colours_levels_and_topic_families():
    add_lines("webhook error: 500 from target", "customers/redact queued")
    out, _, _ = watch("0", "--lines", "10", force_color=True)
    error_line, topic_line = out.splitlines()
    assert "\x1b[31mERROR" in error_line and "\x1b[31mwebhook error" in error_line
    assert "\x1b[36m[customers/redact]\x1b[0m" in topic_line


@pytest.mark.django_db
def test_no_color_keeps_the_output_plain():
    add_lines("webhook error: 500 from target")
    out, _, _ = watch("0", "--lines", "10", no_color=True)
    assert "\x1b[" not in out and "ERROR" in out


@pytest.mark.django_db
def test_with_errors_it_exits_2_when_an_error_line_was_seen():
    add_lines("all fine", "prisma:error connection refused")
    assert watch("0", "--lines", "10", "--errors")[2] == 2
    assert watch("0", "--lines", "10")[2] == 0, "without --errors an error line is just printed"
    out, err, code = watch("0", "--lines", "10", "--errors", "--filter", "fine")
    assert (code, out.count("\n")) == (0, 1), "only lines that pass the filter count"


@pytest.mark.django_db
def test_with_errors_any_error_line_by_the_one_matcher_exits_2_whatever_its_level():
    add_lines("Admin API responded 429 Too Many Requests", level=records.INFO)
    assert watch("0", "--errors")[2] == 2


@pytest.mark.django_db
def test_with_errors_numbers_that_are_not_statuses_exit_0():
    add_lines("GET /health 200 15ms", "listening on port 5432", "version 5.2.19", "shop 5 orders", "took 503ms")
    out, _, code = watch("0", "--errors")
    assert code == 0 and out.count("\n") == 5


@pytest.mark.django_db
def test_it_shows_the_last_ten_matching_lines_first_and_lines_0_only_follows():
    add_lines(*(f"backlog line {n}" for n in range(12)))
    out, _, _ = watch("0")
    assert [line.rsplit(" ", 1)[1] for line in out.splitlines()] == [str(n) for n in range(2, 12)]
    out, _, _ = watch("0", "--lines", "3")
    assert out.count("\n") == 3
    out, err, _ = watch("0", "--lines", "0")
    assert out == "" and "0 lines" in err


@pytest.mark.django_db
def test_a_bad_filter_is_refused_with_the_reason():
    with pytest.raises(CommandError, match="is not valid"):
        call_command("logs_watch", "0", "--filter", "(", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_in_a_terminal_it_prints_new_lines_as_they_arrive_in_colour_and_stops_by_itself():
    add_lines("backlog WARN disk at 85%")
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "logs_watch", "5", "--interval", "0.1", "--lines", "5"],
        cwd=ROOT,
        env=subprocess_env(),
        stdout=follower,
        stderr=subprocess.PIPE,
    )
    os.close(follower)
    output = b""

    def read_until(text: bytes, timeout: float = 30):
        nonlocal output
        deadline = time.monotonic() + timeout
        while text not in output:
            assert time.monotonic() < deadline, f"{text!r} not seen in {output!r}"
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    output += os.read(leader, 4096)
                except OSError:
                    break

    try:
        read_until(b"backlog WARN")  # the command is polling from here on
        add_lines("SHOP/REDACT arrived live")
        read_until(b"SHOP/REDACT arrived live")
        assert b"\x1b[33mWARNING" in output, "a terminal gets colours"
        assert b"\x1b[34m[shop/redact]" in output
        assert process.wait(30) == 0, "it stops by itself after SECONDS"
        assert b"logs_watch: 2 lines in 5 s" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
        os.close(leader)


FAKE_FLY = """\
#!{python}
import sys, time
if sys.argv[1:] != ["logs", "-a", "timedify"]:
    sys.stderr.write("unexpected arguments: %r\\n" % sys.argv[1:])
    sys.exit(64)
{body}
"""


def install_fly(directory, body: str) -> None:
    fly = directory / "fly"
    fly.write_text(FAKE_FLY.format(python=sys.executable, body=textwrap.dedent(body)))
    fly.chmod(0o755)


@pytest.mark.django_db
def test_the_fly_source_runs_fly_logs_through_the_same_filter_and_timeout(tmp_path, monkeypatch):
    install_fly(
        tmp_path,
        """
        lines = [
            "2026-11-26T10:00:00Z app[148e453f2d4e89] fra [info] GET /health 200",
            "\\x1b[2m2026-11-26T10:00:01Z\\x1b[0m app[148e453f2d4e89] fra [info] Received APP/UNINSTALLED",
            "2026-11-26T10:00:02Z proxy[0e286551c30586] iad [error] webhook error: CUSTOMERS/REDACT failed",
            "a line fly did not format",
        ]
        for line in lines:
            print(line, flush=True)
        time.sleep(60)  # `fly logs` follows until it is stopped
        """,
    )
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    started = time.monotonic()
    out, err, code = watch("1.5", "--source", "fly", "--app", "timedify", "--preset", "topics", "--errors")
    assert time.monotonic() - started < 30, "the fake `fly logs` was stopped at the timeout"
    lines = out.splitlines()
    assert len(lines) == 2
    assert (
        lines[0]
        == "2026-11-26 10:00:01.000000000 timedify fra 148e453f INFO     [app/uninstalled] Received APP/UNINSTALLED"
    )
    assert lines[1].startswith("2026-11-26 10:00:02.000000000 timedify iad 0e286551 ERROR")
    assert code == 2, "an error line was seen"
    assert "2 lines" in err


@pytest.mark.django_db
def test_the_fly_source_reports_a_failing_fly(tmp_path, monkeypatch):
    install_fly(
        tmp_path,
        """
        sys.stderr.write("Error: no access token available. Please login with 'flyctl auth login'\\n")
        sys.exit(1)
        """,
    )
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(CommandError, match="exited with 1: Error: no access token available"):
        call_command(
            "logs_watch", "5", "--source", "fly", "--app", "timedify", stdout=io.StringIO(), stderr=io.StringIO()
        )


def test_the_fly_source_says_clearly_when_fly_is_not_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    out, err, code = watch("5", "--source", "fly", "--app", "timedify")
    assert code == 3
    assert "`fly` (flyctl) is not installed or not on PATH" in err and "--source db" in err


def test_the_fly_source_needs_an_app():
    with pytest.raises(CommandError, match="needs --app NAME"):
        call_command("logs_watch", "1", "--source", "fly", stdout=io.StringIO(), stderr=io.StringIO())


def test_the_line_format_keeps_nanoseconds_and_utc():
    from dashboard.logs.management.commands.logs_watch import Line, format_line

    line = Line(records.format_ns(1_795_000_000_123_456_789), "timedify", "fra", "148e453f2d4e89", 20, "", "hello")
    assert format_line(line, colour=False) == "2026-11-18 11:06:40.123456789 timedify fra 148e453f INFO     hello"
