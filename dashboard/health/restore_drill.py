"""The restore drill: prove that a backup restores, migrates and serves, before the day it must.

`manage.py restore_drill DUMP` (the command is thin; everything is here). Steps, each timed and
reported; the first failure stops the drill, and the scratch database is dropped in every case
(unless `keep`):

1. Read the dump's format: custom (`pg_dump -Fc`), tar or directory go to `pg_restore`; plain SQL
   (also gzipped, as `pg_dump | gzip` writes it) goes to `psql`.
2. Create the scratch database on the server (never one that exists: the drill only drops what it made).
3. Restore into it, stopping at the first error (`--exit-on-error`, `ON_ERROR_STOP`), without the
   dump's owners and grants (the drill's role restores everything as itself).
4. Migrate it with this code (`manage.py migrate` in a child process pointed at the scratch
   database): a backup taken before the last deploy must still reach today's schema.
5. Check it: `manage.py health_check` against it (the probes that mean something for a database
   at rest: database, migrations, tokens), the row count of every table, at least one row of data,
   `min_rows` where asked, and how old its newest row is (`max_age`: a drill that restores last
   week's backup because the nightly one silently stopped must fail).

The child processes get the scratch database's URL in DATABASE_URL; the password travels in
PGPASSWORD for the PostgreSQL tools, never on a command line.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import psycopg
from django.apps import apps
from django.conf import settings
from django.db import models
from psycopg import sql

MANAGE_PY = Path(settings.BASE_DIR) / "manage.py"
# The probes that mean something for a restored database at rest (no worker, no app, no schedules).
DEFAULT_PROBES = ("database", "migrations", "tokens")
# Tables migrate itself fills: a restore holding only these holds no data.
MIGRATE_FILLED = frozenset(
    {
        "django_migrations",
        "django_content_type",
        "auth_permission",
        "auth_group",
        "auth_group_permissions",
        "django_q_schedule",  # sync_schedules runs after every migrate
    }
)
# Columns that say when a row was written, for the age of the newest row.
WRITTEN_AT = ("received_at", "created_at", "timestamp", "started_at", "checked_at")
SCRATCH_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
TOOL_TIMEOUT_S = 3600  # a restore of a large dump can take a while; a hung one must still end


class DrillFailed(Exception):
    """One step failed; the message is for the operator."""


@dataclass
class Step:
    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Drill:
    dump: Path
    scratch: str
    steps: list[Step] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    newest: datetime | None = None

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)


# --------------------------------------------------------------------------- the server


@dataclass(frozen=True)
class Server:
    """A PostgreSQL server as a URL's parts; `url(db)` points at one of its databases."""

    scheme: str
    netloc: str
    query: str
    database: str

    @classmethod
    def from_url(cls, url: str) -> Server:
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql", "pgsql"):
            raise DrillFailed("the restore drill needs a PostgreSQL server (DATABASE_URL or --server-url)")
        return cls("postgresql", parts.netloc, parts.query, unquote(parts.path.lstrip("/")) or "postgres")

    def url(self, database: str) -> str:
        return urlunsplit((self.scheme, self.netloc, "/" + quote(database), self.query, ""))

    def tool_env(self, database: str) -> dict[str, str]:
        """The environment for pg_restore / psql: libpq's PG* variables, the password among them."""
        parts = urlsplit(self.url(database))
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env.update({"PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port or 5432), "PGDATABASE": database})
        if parts.username:
            env["PGUSER"] = unquote(parts.username)
        if parts.password:
            env["PGPASSWORD"] = unquote(parts.password)
        for key, value in (pair.split("=", 1) for pair in self.query.split("&") if "=" in pair):
            if key == "sslmode":
                env["PGSSLMODE"] = value
        return env


def server_from_settings() -> Server:
    """The server of timedify-ops' own database (the drill's default)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise DrillFailed("the restore drill needs PostgreSQL: set DATABASE_URL, or give --server-url")
    user = quote(db.get("USER") or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    netloc = f"{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    sslmode = (db.get("OPTIONS") or {}).get("sslmode")
    return Server("postgresql", netloc, f"sslmode={sslmode}" if sslmode else "", db["NAME"])


def default_scratch_name(server: Server, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    base = re.sub(r"[^a-z0-9_]", "_", server.database.lower())[:40]
    return f"{base}_drill_{stamp}"


# --------------------------------------------------------------------------- the steps


def dump_format(path: Path) -> str:
    """custom | tar | directory | plain | plain-gzip"""
    if path.is_dir():
        if not (path / "toc.dat").exists():
            raise DrillFailed(f"{path} is a directory without toc.dat: not a pg_dump -Fd dump")
        return "directory"
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError as error:
        raise DrillFailed(f"cannot read {path}: {error.strerror or error}") from None
    if not head:
        raise DrillFailed(f"{path} is empty")
    if head.startswith(b"PGDMP"):
        return "custom"
    if head[257:262] == b"ustar":
        return "tar"
    if head.startswith(b"\x1f\x8b"):
        return "plain-gzip"
    return "plain"


def _admin(server: Server):
    # The maintenance database: CREATE and DROP DATABASE cannot run inside the database they name.
    return psycopg.connect(server.url("postgres"), autocommit=True, connect_timeout=10)


def create_scratch(server: Server, name: str) -> None:
    try:
        with _admin(server) as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists:
                raise DrillFailed(f"a database named {name} exists already; the drill only uses one it creates")
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        raise DrillFailed(f"cannot create {name}: {_first_line(error)}") from None


def drop_scratch(server: Server, name: str) -> None:
    with _admin(server) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def restore(server: Server, name: str, dump: Path, kind: str) -> str:
    env = server.tool_env(name)
    if kind in ("custom", "tar", "directory"):
        tool = _tool("pg_restore")
        command = [tool, "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", name, str(dump)]
        result = _run(command, env=env)
    else:
        tool = _tool("psql")
        command = [tool, "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", "--dbname", name]
        if kind == "plain-gzip":
            result = _run_fed(command, env=env, source=dump)
        else:
            with open(dump, "rb") as source:
                result = _run(command, env=env, stdin=source)
    if result.returncode != 0:
        raise DrillFailed(f"{Path(command[0]).name} failed: {_tail(result.stderr)}")
    return f"{kind} dump restored with {Path(command[0]).name}"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise DrillFailed(f"{name} is not installed (Debian/Ubuntu: apt-get install postgresql-client)")
    return found


def _run(command, *, env, stdin=None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            command,
            env=env,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=TOOL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DrillFailed(f"{Path(command[0]).name} did not finish within {TOOL_TIMEOUT_S} s") from None


def _run_fed(command, *, env, source: Path) -> subprocess.CompletedProcess:
    """Run `command` with the gunzipped `source` streamed into its stdin (a dump may be larger than memory)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=out, stderr=err)
        deadline = time.monotonic() + TOOL_TIMEOUT_S
        try:
            with gzip.open(source, "rb") as unpacked:
                while chunk := unpacked.read(1 << 20):
                    process.stdin.write(chunk)
                    if time.monotonic() > deadline:
                        raise subprocess.TimeoutExpired(command, TOOL_TIMEOUT_S)
        except BrokenPipeError:
            pass  # psql stopped at an error (ON_ERROR_STOP); its exit code and stderr say which
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            process.kill()
            process.wait()
            raise DrillFailed(f"cannot read {source}: {error}") from None
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise DrillFailed(f"{Path(command[0]).name} did not finish within {TOOL_TIMEOUT_S} s") from None
        finally:
            if process.stdin and not process.stdin.closed:
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.close()
        try:
            returncode = process.wait(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise DrillFailed(f"{Path(command[0]).name} did not finish within {TOOL_TIMEOUT_S} s") from None
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(command, returncode, out.read(), err.read())


def _manage(server: Server, name: str, *args: str) -> subprocess.CompletedProcess:
    """A manage.py command in a child process whose DATABASE_URL is the scratch database."""
    env = {**os.environ, "DATABASE_URL": server.url(name), "PYTHONUNBUFFERED": "1"}
    env.setdefault("DJANGO_SETTINGS_MODULE", os.environ.get("DJANGO_SETTINGS_MODULE") or "timedify_ops.settings")
    return _run([sys.executable, str(MANAGE_PY), *args], env=env)


def migrate(server: Server, name: str) -> str:
    result = _manage(server, name, "migrate", "--noinput")
    output = result.stdout.decode(errors="replace")
    if result.returncode != 0:
        raise DrillFailed(f"migrate failed: {_tail(result.stderr or result.stdout)}")
    applied = re.findall(r"Applying (\S+)\.\.\. OK", output)
    if not applied:
        return "already at this code's schema: nothing to apply"
    shown = ", ".join(applied[:5]) + (f" and {len(applied) - 5} more" if len(applied) > 5 else "")
    return f"applied {len(applied)} migration(s): {shown}"


def health(server: Server, name: str, probes: tuple[str, ...]) -> str:
    result = _manage(server, name, "health_check", "--json", "--only", ",".join(probes))
    text = result.stdout.decode(errors="replace")
    try:
        report = json.loads(text)
    except ValueError:
        raise DrillFailed(f"health_check did not answer: {_tail(result.stderr or result.stdout)}") from None
    failed = [f"{p['probe']}: {p['detail']}" for p in report["probes"] if p["state"] == "fail"]
    if failed:
        raise DrillFailed("health_check failed: " + "; ".join(failed))
    return ", ".join(f"{p['probe']} {p['state']}" for p in report["probes"])


def data_tables() -> list[type[models.Model]]:
    """Every concrete table of the installed models (what this code expects a database to hold)."""
    found, seen = [], set()
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in seen:
            continue
        seen.add(meta.db_table)
        found.append(model)
    return sorted(found, key=lambda model: model._meta.db_table)


def count_rows(server: Server, name: str) -> tuple[dict[str, int], datetime | None]:
    """Each table's row count, and the newest write time found (see WRITTEN_AT)."""
    counts: dict[str, int] = {}
    newest: datetime | None = None
    with psycopg.connect(server.url(name), connect_timeout=10) as connection:
        for model in data_tables():
            table = model._meta.db_table
            try:
                counts[table] = connection.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                ).fetchone()[0]
            except psycopg.errors.UndefinedTable:
                connection.rollback()
                raise DrillFailed(f"table {table} is missing after migrate") from None
            for column in WRITTEN_AT:
                field_ = next((f for f in model._meta.concrete_fields if f.column == column), None)
                if isinstance(field_, models.DateTimeField) and counts[table]:
                    moment = connection.execute(
                        sql.SQL("SELECT max({}) FROM {}").format(sql.Identifier(column), sql.Identifier(table))
                    ).fetchone()[0]
                    if moment is not None and (newest is None or moment > newest):
                        newest = moment
    return counts, newest


def judge_counts(
    counts: dict[str, int], newest: datetime | None, *, min_rows: dict[str, int], max_age: timedelta | None, now
) -> str:
    data_rows = sum(count for table, count in counts.items() if table not in MIGRATE_FILLED)
    problems = []
    if data_rows == 0:
        problems.append("the restored database holds no data (only what migrate writes)")
    for table, wanted in sorted(min_rows.items()):
        if table not in counts:
            problems.append(f"no table {table}")
        elif counts[table] < wanted:
            problems.append(f"{table} has {counts[table]} row(s), fewer than {wanted}")
    if max_age is not None and newest is not None and now - newest > max_age:
        problems.append(f"its newest row is from {newest:%Y-%m-%d %H:%M} UTC, older than {_span(max_age)}")
    if problems:
        raise DrillFailed("; ".join(problems))
    age = f", newest row {_span(now - newest)} old" if newest else ""
    return f"{data_rows} row(s) of data in {sum(1 for c in counts.values() if c)} of {len(counts)} tables{age}"


# --------------------------------------------------------------------------- the drill


def run_drill(
    dump: Path,
    *,
    server: Server,
    scratch: str,
    keep: bool = False,
    probes: tuple[str, ...] = DEFAULT_PROBES,
    min_rows: dict[str, int] | None = None,
    max_age: timedelta | None = None,
    say: Callable[[Step], None] = lambda step: None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Drill:
    """Run every step (see the module's list); the returned Drill says what each found."""
    if not SCRATCH_NAME.fullmatch(scratch):
        raise DrillFailed(f"{scratch!r} is not a plain database name (lower-case letters, digits, _)")
    drill = Drill(dump=dump, scratch=scratch)
    created = False

    def step(name: str, work: Callable[[], str]) -> bool:
        started = time.monotonic()
        try:
            detail, ok = work(), True
        except DrillFailed as error:
            detail, ok = str(error), False
        drill.steps.append(Step(name, ok, detail, round(time.monotonic() - started, 2)))
        say(drill.steps[-1])
        return ok

    def create() -> str:
        nonlocal created
        create_scratch(server, scratch)
        created = True
        return f"created {scratch}"

    def check_rows() -> str:
        drill.counts, drill.newest = count_rows(server, scratch)
        return judge_counts(drill.counts, drill.newest, min_rows=min_rows or {}, max_age=max_age, now=now())

    kind = ""

    def read_format() -> str:
        nonlocal kind
        kind = dump_format(dump)
        return f"{dump} is a {kind} dump"

    steps = (
        ("dump", read_format),
        ("create", create),
        ("restore", lambda: restore(server, scratch, dump, kind)),
        ("migrate", lambda: migrate(server, scratch)),
        ("health", lambda: health(server, scratch, probes)),
        ("rows", check_rows),
    )
    try:
        for name, work in steps:
            if not step(name, work):
                break
    finally:
        if created and not keep:
            step("drop", lambda: _drop(server, scratch))
    return drill


def _drop(server: Server, scratch: str) -> str:
    try:
        drop_scratch(server, scratch)
    except psycopg.Error as error:
        raise DrillFailed(f"could not drop {scratch}: {_first_line(error)} (drop it by hand)") from None
    return f"dropped {scratch}"


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _tail(output: bytes | str, lines: int = 5) -> str:
    text = output.decode(errors="replace") if isinstance(output, bytes) else output
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept) or "no output"


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"
