# Every target creates the virtual environment on first use.
PYTHON_BASE ?= python3
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/odoo_crm_sync
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
PYTEST_WORKERS ?= 2

.PHONY: venv demo test check clean

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PYTHON) || $(PYTHON_BASE) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

demo: venv
	$(PYTHON) -m sandbox.demo

test: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
	$(PYTHON) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

check: venv
	$(PYTHON) manage.py check
	$(PYTHON) manage.py makemigrations --check --dry-run

clean:
	rm -rf var .pytest_cache
