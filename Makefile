# Shortcuts; each target calls the same scripts a fresh clone uses.
.PHONY: run demo test ci lint format bench bench-quick

run:
	python3 scripts/dev.py run

demo:
	python3 scripts/dev.py demo

test:
	python3 scripts/dev.py test

ci:
	.ci/run

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

# Every benchmark under bench/ at this machine's sizes (about 20 minutes on 2 CPUs), then a summary
# of their ratios; needs PostgreSQL on 127.0.0.1:5432 (BENCH_PG to change it). Figures: docs/PERFORMANCE.md.
bench:
	.venv/bin/python bench/run_all.py

bench-quick:
	.venv/bin/python bench/run_all.py --quick

# --- The go-live checklist by group, as its npm scripts were --------------------------------------
# Locally:            make after-deploy URL=https://timedify-ops.fly.dev
# On a Fly machine:   make after-deploy MANAGE=scripts/fly-manage.sh FLY_APP=timedify-ops URL=https://…
# Each line exits like the checklist's script: the first failing check stops the target.
.PHONY: after-deploy daily check-health check-alerts logs-watch deadletters restore-drill secrets
MANAGE ?= .venv/bin/python manage.py
URL ?= http://127.0.0.1:8000

# After every deploy: one signed webhook per topic, every probe, 30 s of new logs without an error line.
after-deploy:
	$(MANAGE) synthetic_webhook_test --url $(URL)
	$(MANAGE) health_check
	$(MANAGE) logs_watch 30 --errors --lines 0

# Once a day: health, any error line in the last day, the dead letters waiting, the SLOs, the secrets.
daily:
	$(MANAGE) health_check
	$(MANAGE) alerting_check --since 24h --any
	$(MANAGE) replay_deadletters --list --since 24h
	$(MANAGE) slo_report
	$(MANAGE) secrets_inventory

# health-check.sh and alerting-check.sh (any error line in the last 5 minutes exits 2).
check-health:
	$(MANAGE) health_check

check-alerts:
	$(MANAGE) alerting_check --since 5m --any

# logs-watch.sh: 15 s of webhook-topic lines.
logs-watch:
	$(MANAGE) logs_watch 15 --preset topics

deadletters:
	$(MANAGE) replay_deadletters --list

# Backups: make restore-drill DUMP=backup.dump (restores on DATABASE_URL's server; DRILL_ARGS for more).
restore-drill:
	@test -n "$(DUMP)" || { echo "make restore-drill DUMP=path/to/backup.dump"; exit 2; }
	$(MANAGE) restore_drill $(DUMP) --max-age 26h $(DRILL_ARGS)

secrets:
	$(MANAGE) secrets_inventory
