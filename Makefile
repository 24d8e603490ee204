# Shortcuts; each target calls the same scripts a fresh clone uses.
.PHONY: run demo test ci lint format

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
