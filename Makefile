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
