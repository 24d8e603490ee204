"""manage.py secrets_inventory [--json] [--env-file FILE] [--compare FINGERPRINTS.json]

Every variable the deployment needs, its purpose, whether it is set, and a fingerprint of its value
(never the value). Checking a backed-up copy against production moves no secret:

    fly ssh console -C "python manage.py secrets_inventory --json" > prod.json    # fingerprints only
    python manage.py secrets_inventory --env-file ~/vault/timedify-ops.env --compare prod.json

Exit codes: 0 all good · 1 a variable start-up needs is not set, or (with --compare) a value
differs or is on one side only · 2 a file could not be read.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from timedify_ops.devenv import DEV_ENV_FILE
from timedify_ops.lib import inventory
from timedify_ops.lib.env import read_env_file

EXIT_PROBLEM = 1
EXIT_UNREADABLE = 2


class Command(BaseCommand):
    help = "List every variable the deployment needs: purpose, set or not, and a fingerprint (never the value)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json", help="print JSON (safe to copy: no values)")
        parser.add_argument(
            "--env-file", help="read the values from this KEY=VALUE file (a backed-up copy) instead of the environment"
        )
        parser.add_argument(
            "--compare", help="compare with the fingerprints of another run (its --json output); exit 1 on a difference"
        )

    def handle(self, *args, as_json=False, env_file=None, compare=None, **options):
        if env_file:
            environ = inventory.read_env_text(self._read(env_file))
            source = env_file
        else:
            # What the settings saw: the environment, over var/dev.env in development.
            environ = {**(read_env_file(DEV_ENV_FILE) if settings.DEBUG else {}), **os.environ}
            source = "this environment"
        rows = inventory.rows(environ, production=not settings.DEBUG)
        differences = self._compare(rows, compare) if compare else []
        missing = [row.name for row in rows if row.missing]
        troubled = [d for d in differences if d.verdict in ("differs", "missing here", "missing there")]
        if as_json:
            payload = {"source": source, "variables": [row.as_dict() for row in rows]}
            if compare:
                payload["compared_with"] = compare
                payload["differences"] = {d.name: d.verdict for d in differences}
            self.stdout.write(json.dumps(payload, indent=2))
        else:
            self._table(rows, {d.name: d.verdict for d in differences}, source)
        if missing:
            self.stderr.write(f"not set, but needed: {', '.join(missing)}")
        if troubled:
            self.stderr.write("differences: " + ", ".join(f"{d.name} ({d.verdict})" for d in troubled))
        if missing or troubled:
            sys.exit(EXIT_PROBLEM)

    def _read(self, path: str) -> str:
        try:
            return Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.stderr.write(f"secrets_inventory: cannot read {path}: {error}")
            sys.exit(EXIT_UNREADABLE)

    def _compare(self, rows, path: str):
        text = self._read(path)
        try:
            other = json.loads(text)
            theirs = {item["name"]: item.get("fingerprint") or "" for item in other["variables"]}
        except (ValueError, KeyError, TypeError) as error:
            raise CommandError(f"{path} is not the --json output of secrets_inventory ({error})") from None
        return inventory.compare(rows, theirs)

    def _table(self, rows, verdicts: dict[str, str], source: str) -> None:
        self.stdout.write(f"secrets inventory of {source} (fingerprint: first 12 hex digits of SHA-256)")
        width = max(len(row.name) for row in rows)
        for row in rows:
            state = "set" if row.set else ("MISSING" if row.missing else "not set")
            kind = "secret" if row.secret else "config"
            line = f"{row.name:<{width}}  {kind:<6}  {row.required:<20}  {state:<7}  {row.fingerprint or '-':<12}"
            if row.name in verdicts:
                line += f"  {verdicts[row.name]:<13}"
            line += f"  {row.purpose}"
            bad = row.missing or verdicts.get(row.name) in ("differs", "missing here", "missing there")
            self.stdout.write(self.style.ERROR(line) if bad else line)
