# The two commands: `make run` serves the demo, `make test` runs the whole suite.
# Each sets up what it needs first (a .venv with casedesk installed), on a machine with
# only Python 3.11+ and make.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-postgres test-browser bench setup lint typecheck clean messages \
	compile-messages

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("casedesk needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/casedesk migrate --noinput
	$(BIN)/casedesk demo
	$(BIN)/casedesk serve --host $(HOST) --port $(PORT)

# Two processes (pytest-xdist): the suite is CPU-bound and CI has two cores. Skips are
# listed with their reasons (-rs), so a test that silently stopped running is seen.
PYTEST := $(BIN)/python -m pytest -q -rs -n 2

test: $(STAMP)
	$(PYTEST)

# The same suite on PostgreSQL (127.0.0.1:5432 unless CASEDESK_DATABASE_URL says otherwise).
test-postgres: $(STAMP)
	CASEDESK_DATABASE_URL=$${CASEDESK_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/casedesk} \
		$(PYTEST)

# The portal's journeys in a real Chromium (Debian's /usr/bin/chromium). pytest's exit
# code 5 means no journey was collected: said out loud, but not a failure.
test-browser: $(STAMP)
	@status=0; $(BIN)/python -m pytest -q --browser -m browser || status=$$?; \
	if [ $$status -eq 5 ]; then echo "No browser journeys collected."; status=0; fi; \
	exit $$status

# The desk benchmark (issue 5) runs at CASES cases, a million unless told a smaller size
# (`make bench CASES=100000`); its seeded databases are kept under var/bench and reused.
CASES ?= 1000000

bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench desk --cases $(CASES)

# The soak (issue 8.8-9, docs/soak.md): the real processes on PostgreSQL and on SQLite under
# load and faults for SOAK_SECONDS each, then an exact audit; then the fuzz tests scaled to
# at least 10,000 generated inputs (FUZZ_SCALE times the normal suite's 300). Not in `make test`.
SOAK_SECONDS ?= 60
FUZZ_SCALE ?= 34

.PHONY: soak
soak: $(STAMP)
	SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/python -m soak
	CASEDESK_FUZZ_SCALE=$(FUZZ_SCALE) $(BIN)/python -m pytest -q -n 2 \
		casedesk/mail/tests/test_fuzz_mail.py casedesk/portal/tests/test_fuzz_forms.py

.PHONY: bench-desk
bench-desk: $(STAMP)
	$(BIN)/python -m bench desk --cases $(CASES)

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy casedesk

# Translations (casedesk/locale/README.md). An app with its own catalog
# (casedesk/<app>/locale) keeps its strings there; the project's casedesk/locale holds the
# rest. `messages` extracts new strings into the .po files (Django's makemessages, which
# needs GNU gettext's xgettext) and compiles them; `compile-messages` only compiles, with
# Babel, and needs nothing else.
APP_CATALOGS = $(patsubst casedesk/%/locale,%,$(wildcard casedesk/*/locale))

messages: $(STAMP)
	for app in $(APP_CATALOGS); do \
		(cd casedesk/$$app && ../../$(BIN)/casedesk makemessages -l ar --add-location file \
			--ignore 'tests/*') || exit 1; \
	done
	cd casedesk && ../$(BIN)/casedesk makemessages -l ar --add-location file \
		--ignore 'tests/*' --ignore '*/tests/*' $(foreach app,$(APP_CATALOGS),--ignore '$(app)/*')
	$(MAKE) compile-messages

compile-messages: $(STAMP)
	for dir in casedesk/locale $(wildcard casedesk/*/locale); do \
		$(BIN)/pybabel compile -d $$dir -D django || exit 1; \
	done

clean:
	rm -rf $(VENV) var *.egg-info
