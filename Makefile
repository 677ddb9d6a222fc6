# Two commands matter: `make demo` and `make test`. Both run `make setup` first, which is idempotent.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
# The JVM jars live beside the Python packages they belong to; the session factory finds them there.
JARS_DIR := $(VENV)/share/retail-lakehouse/jars
KAFKA_JARS_DIR := $(VENV)/share/retail-lakehouse/kafka
# The dashboard's npm project, and where its built front-end files go inside the package.
FRONTEND := src/retail_lakehouse/serve/frontend
DASHBOARD_VENDOR := src/retail_lakehouse/serve/static/vendor
# checkov (the Bicep templates' policy checks) pins its own versions of libraries the package also uses, so
# it gets a virtual environment of its own; tests/deploy runs it from there.
INFRA_VENV ?= .venv-infra
CHECKOV_VERSION ?= 3.3.30

.PHONY: setup demo test lint unit integration clean help kafka connect cluster dashboard browser postgres acl

help:
	@echo "make demo   set up, generate the default data set, run every pipeline and the inventory stream, print a summary"
	@echo "make test   set up, lint (ruff, mypy), run the whole test suite"
	@echo "make setup  create .venv, install pinned dependencies, fetch the JVM jars, build the JVM's class archive (idempotent)"
	@echo "make kafka  run a local Apache Kafka broker (KRaft) on 127.0.0.1:$(KAFKA_PORT) until Ctrl-C"
	@echo "make dashboard  serve the dashboard and read API over the gold tables on http://127.0.0.1:$(DASHBOARD_PORT)/"
	@echo "make postgres install Debian's PostgreSQL server when missing (the database-source tests)"
	@echo "make browser  install Debian's chromium and chromium-driver when missing (the dashboard's browser tests)"
	@echo "make connect  run a local Spark Connect server with Delta on sc://127.0.0.1:$(CONNECT_PORT) until Ctrl-C"
	@echo "make cluster  run a Spark standalone cluster (a master and $(CLUSTER_WORKERS) workers, own processes) until Ctrl-C"

setup: $(VENV)/.installed $(JARS_DIR)/.fetched $(KAFKA_JARS_DIR)/.fetched $(DASHBOARD_VENDOR)/.copied $(INFRA_VENV)/.installed
	@# The driver JVM's class-data archive for these jars (runtime/class_archive.py): built once, minutes;
	@# it takes some 7 s off the start of every local command after.
	$(PY) -m retail_lakehouse.jvm_archive

$(INFRA_VENV)/.installed: Makefile
	@test -x $(INFRA_VENV)/bin/python || $(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	@touch $@

# The dashboard's front-end libraries, pinned by the committed package-lock.json; install scripts are not
# run (swagger-ui-dist's would report the download). The built files ship inside the package.
$(DASHBOARD_VENDOR)/.copied: $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to install the dashboard's chart library: apt-get install npm" >&2; exit 2; }
	npm ci --prefix $(FRONTEND) --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p $(DASHBOARD_VENDOR)
	cp $(FRONTEND)/node_modules/chart.js/dist/chart.umd.min.js \
		$(FRONTEND)/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
		$(FRONTEND)/node_modules/swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt \
		$(FRONTEND)/node_modules/swagger-ui-dist/swagger-ui.css $(DASHBOARD_VENDOR)/
	cp $(FRONTEND)/node_modules/chart.js/LICENSE.md $(DASHBOARD_VENDOR)/chart.js.LICENSE.md
	cp $(FRONTEND)/node_modules/swagger-ui-dist/LICENSE $(DASHBOARD_VENDOR)/swagger-ui.LICENSE
	cp $(FRONTEND)/node_modules/swagger-ui-dist/NOTICE $(DASHBOARD_VENDOR)/swagger-ui.NOTICE
	@touch $@

# Debian's PostgreSQL server for the database-source tests (they start and stop it themselves on a free
# port with a temporary data directory). Needs root, as on CI; elsewhere it says what to install.
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "the database-source tests need PostgreSQL: sudo apt-get install postgresql" >&2; exit 2; fi

# Debian's Chromium for the dashboard's browser tests (Playwright drives it; its own browser download
# cannot work offline). Needs root, as on CI; elsewhere it says what to install.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "the browser tests need $(CHROMIUM): sudo apt-get install chromium chromium-driver" >&2; exit 2; fi

# Debian's acl package (setfacl, getfacl): `lakehouse acl apply` on a local disk, and its tests.
acl:
	@if command -v setfacl >/dev/null; then exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq acl >/dev/null; \
	else echo "the ACL tests need setfacl: sudo apt-get install acl" >&2; exit 2; fi

$(VENV)/.installed: pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,azure]'
	@touch $@

$(JARS_DIR)/.fetched: jvm/pom.xml jvm/settings.xml
	@command -v mvn >/dev/null || { echo "Maven (mvn) is needed to fetch the Delta Lake jars: apt-get install maven" >&2; exit 2; }
	rm -rf $(JARS_DIR) && mkdir -p $(JARS_DIR)
	mvn --quiet --batch-mode -s jvm/settings.xml -f jvm/pom.xml dependency:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory=$(abspath $(JARS_DIR))
	@touch $@

$(KAFKA_JARS_DIR)/.fetched: jvm/kafka/pom.xml jvm/settings.xml
	rm -rf $(KAFKA_JARS_DIR) && mkdir -p $(KAFKA_JARS_DIR)
	mvn --quiet --batch-mode -s jvm/settings.xml -f jvm/kafka/pom.xml dependency:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory=$(abspath $(KAFKA_JARS_DIR))
	@touch $@

KAFKA_PORT ?= 9092
kafka: setup
	$(PY) -m retail_lakehouse.runtime.kafka_broker --port $(KAFKA_PORT)

CONNECT_PORT ?= 15002
connect: setup
	$(PY) -m retail_lakehouse.runtime.connect_server --port $(CONNECT_PORT)

CLUSTER_WORKERS ?= 2
cluster: setup
	$(PY) -m retail_lakehouse.runtime.standalone_cluster --workers $(CLUSTER_WORKERS)

DEMO_SCALE ?= 1
# The demo forecasts the top products by revenue in every store (the configuration's default is every
# active store x product: a cluster's work at scale 1; docs/forecasting.md).
DEMO_FORECAST_PRODUCTS ?= 20
# The demo's own key for card tokens (silver); a deployment keeps its key in the secret backend.
DEMO_SECRETS := LAKEHOUSE_SECRET_CARD_TOKEN_KEY=$${LAKEHOUSE_SECRET_CARD_TOKEN_KEY:-demo-only-card-token-key}

demo: setup
	$(DEMO_SECRETS) $(BIN)/lakehouse generate --scale $(DEMO_SCALE)
	@# The stream first: replenishment (in `all`) reads the inventory positions it keeps.
	$(DEMO_SECRETS) $(BIN)/lakehouse stream inventory --available-now
	$(DEMO_SECRETS) $(BIN)/lakehouse pipeline all --set jobs.gold_demand_features.params.top_products=$(DEMO_FORECAST_PRODUCTS)
	$(DEMO_SECRETS) $(BIN)/lakehouse summary
	@# Exit 4 means an SLA missed or an alert open: shown, not a failure of the demo.
	$(BIN)/lakehouse status || test $$? -eq 4
	@echo
	@echo "Open the dashboard: make dashboard, then http://127.0.0.1:$(DASHBOARD_PORT)/ (API docs at /docs)"

DASHBOARD_PORT ?= 8050
dashboard: setup
	$(BIN)/lakehouse serve --port $(DASHBOARD_PORT)

lint: setup
	$(BIN)/ruff check src tests jobs bench
	$(BIN)/ruff format --check src tests jobs bench
	$(BIN)/mypy

# Two workers: the two long tests (collected first: the end-to-end daily pipeline, the stream restart) run
# beside the rest. Three were slower on 2 cores: the suite took 20 minutes instead of about 16.
PYTEST_WORKERS ?= 2

test: setup browser postgres acl lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal

unit: setup
	$(BIN)/pytest tests/unit

integration: setup
	$(BIN)/pytest tests/integration

clean:
	rm -rf data lakehouse logs spark-warehouse .pytest_cache .mypy_cache .ruff_cache
