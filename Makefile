# The two README commands are `make train` and `make test`; every target creates .venv first if missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= configs/demo.yaml
NAME   ?= $(basename $(notdir $(CONFIG)))
RUN    := runs/$(NAME)

.PHONY: install train test report docs bench readme clean-runs

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing alexnet and its dependencies into $(VENV) (one time)..."
	@start=$$(date +%s); \
	$(BIN)/pip install -q --upgrade pip && \
	$(BIN)/pip install -q -e ".[dev]" && \
	echo "Install took $$(( $$(date +%s) - start )) s."
	@touch $(STAMP)

# Main job: train on $(CONFIG) (default: the bundled demo data, generated offline) by running
# nbs/05_train.ipynb headless with papermill; the executed notebook lands in $(RUN)/.
train: $(STAMP)
	@mkdir -p $(RUN)
	$(BIN)/papermill nbs/05_train.ipynb $(RUN)/05_train.ipynb --cwd nbs -f $(CONFIG) -p name $(NAME) --log-output --no-progress-bar
	@echo "Executed notebook: $(RUN)/05_train.ipynb"

# Whole test suite (what CI runs): library in sync, notebooks clean, notebook tests, end-to-end tests.
test: $(STAMP)
	@bash scripts/test.sh

readme: $(STAMP)
	$(BIN)/python scripts/render.py readme

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean-runs:
	rm -rf runs

# The report: re-execute 01 -> 07 headless for $(CONFIG) (default: the demo), then README.md.
report: $(STAMP)
	$(BIN)/python scripts/report.py --config $(CONFIG) $(if $(DATA),--data-root $(DATA))

# An offline HTML site of the report in _docs/ (nbconvert; Quarto is not installable offline).
docs: $(STAMP)
	$(BIN)/python scripts/render.py docs
