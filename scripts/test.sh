#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. nbdev_export and nbdev_clean change nothing (library in sync with the notebooks, notebooks clean); ruff check passes;
#   2. every notebook's tests (nbdev_test, each notebook under a timeout, TEST_JOBS at a time);
#   3. the end-to-end pytest suite in tests/ (pytest-xdist, TEST_JOBS processes, one test file per process).
# Prints `N passed, M failed` and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
NB_TIMEOUT=${NB_TIMEOUT:-900}
TEST_JOBS=${TEST_JOBS:-2}  # notebooks / pytest processes at a time (each test is mostly start-up; more jobs need more memory)
passed=0; failed=0; failures=()

record() { # record NAME STATUS
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "PASS $1"
  else failed=$((failed + 1)); failures+=("$1"); echo "FAIL $1 (exit $2)"; fi
}

tree_state() { git status --porcelain -- alexnet nbs 2>/dev/null | sort; git diff -- alexnet nbs 2>/dev/null | sha256sum; }

# set-up: the browser check of the HTML report needs Debian's chromium
if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing chromium for the HTML report check..."
  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null 2>&1 || echo "could not install chromium"
fi

# the disk: the suite writes paper-net checkpoints (455 MB each); print the free space, and at the end the peak the suite used
disk_used() { df -Pk "${TMPDIR:-/tmp}" | awk 'NR==2 {print $3}'; }
echo "Free disk for temporary files: $(df -Ph "${TMPDIR:-/tmp}" | awk 'NR==2 {print $4}')"
disk_start=$(disk_used); peak_file=$(mktemp); echo 0 >"$peak_file"
( peak=0; while sleep 5 && kill -0 $$ 2>/dev/null; do d=$(( $(disk_used) - disk_start )); [ "$d" -gt "$peak" ] && peak=$d && echo "$peak" >"$peak_file"; done ) >/dev/null 2>&1 &
sampler=$!; disown "$sampler"  # not a job: `jobs` and `wait` below count the notebooks only
trap 'kill "$sampler" 2>/dev/null' EXIT

before=$(tree_state)
timeout 300 $BIN/nbdev_export && timeout 300 $BIN/nbdev_clean
after=$(tree_state)
if [ "$before" = "$after" ]; then record "nbdev_export/nbdev_clean change nothing" 0
else
  echo "nbdev_export/nbdev_clean changed these files: export and clean the notebooks, then commit:"
  diff <(echo "$before") <(echo "$after") | grep '^[<>] [ MADR?]' | head -20
  record "nbdev_export/nbdev_clean change nothing" 1
fi

# the linter, on the notebooks, tests, benches and scripts ([tool.ruff] in pyproject.toml; alexnet/ is generated from nbs/)
timeout 300 $BIN/ruff check --output-format concise .; record "ruff check" $?

# every notebook's tests, TEST_JOBS notebooks at a time (a notebook's start-up, imports and kernel builds are
# mostly single-threaded); each notebook's output is printed whole, in notebook order
logs=$(mktemp -d)
for nb in nbs/*.ipynb; do
  while [ "$(jobs -rp | wc -l)" -ge "$TEST_JOBS" ]; do sleep 0.5; done
  name=$(basename "$nb")
  ( start=$(date +%s); timeout "$NB_TIMEOUT" $BIN/nbdev_test --path "$nb" --do_print >"$logs/$name.log" 2>&1
    echo "$? $(( $(date +%s) - start ))" >"$logs/$name.status" ) &
done
wait
for nb in nbs/*.ipynb; do
  name=$(basename "$nb"); read -r status secs <"$logs/$name.status"
  cat "$logs/$name.log"; echo "  ($nb: $secs s)"
  record "nbdev_test $nb" "$status"
done
rm -rf "$logs"

junit=$(mktemp)
timeout 1800 $BIN/pytest tests -q -n "$TEST_JOBS" --dist loadfile --durations=12 --junitxml="$junit"; status=$?
read -r pt pf < <($BIN/python - "$junit" <<'PY'
import sys, xml.etree.ElementTree as ET
try: r = ET.parse(sys.argv[1]).getroot()
except Exception: print(0, 1); raise SystemExit
s = r if r.tag == 'testsuite' else r.find('testsuite')
t, f, e, sk = (int(s.get(k, 0)) for k in ('tests', 'failures', 'errors', 'skipped'))
print(t - f - e - sk, f + e + sk)
PY
)
rm -f "$junit"
passed=$((passed + pt)); failed=$((failed + pf))
if [ "$pt" -eq 0 ] || { [ "$status" -ne 0 ] && [ "$pf" -eq 0 ]; }; then failed=$((failed + 1)); failures+=("pytest (exit $status, $pt tests passed)"); fi

echo; echo "Peak disk the suite used beyond its start: $(( $(cat "$peak_file") / 1024 )) MiB"; rm -f "$peak_file"
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
