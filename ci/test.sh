#!/usr/bin/env bash
# The one command that installs, builds and runs every test (README, "Run every test").
#   1. install the Debian packages (ci/install-deps.sh; idempotent)
#   2. build with -Werror and run every ctest test: unit, integration, interop
#   3. build again under AddressSanitizer + UndefinedBehaviorSanitizer and run them again
#   4. build the libFuzzer targets with clang and run each briefly on its seed corpus
# Ends with one summary line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)
fuzz_seconds=${MC_FUZZ_SECONDS:-30}
passed=0
failed=0

step() { printf '\n=== %s\n' "$*"; }

# Adds one ctest run's counts to the totals; returns ctest's status.
run_ctest() {
  local dir=$1 log
  log=$(mktemp)
  (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600) 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line total nfail
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
  if [ -n "$line" ]; then
    total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    nfail=$(sed -E 's/.*passed, ([0-9]+) tests failed.*/\1/' <<<"$line")
    passed=$((passed + total - nfail))
    failed=$((failed + nfail))
  else
    failed=$((failed + 1))
  fi
  rm -f "$log"
  return "$rc"
}

status=0
step "install dependencies"
bash ci/install-deps.sh || exit 1

step "build (warnings are errors)"
bash ci/build.sh build || exit 1
step "test"
run_ctest build || status=1

step "build under ASan + UBSan"
bash ci/build.sh build-asan -DMOCKCA_SANITIZE=ON || exit 1
step "test under ASan + UBSan"
# CK_FORK=no: each Check binary runs in one process, so LeakSanitizer sees all of it at exit.
CK_FORK=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest build-asan || status=1

step "fuzz targets (${fuzz_seconds}s each)"
# Only the fuzz targets are built here: the rest of the tree was built and tested above.
fuzz_targets=()
for src in tests/fuzz/fuzz_*.c; do fuzz_targets+=("$(basename "$src" .c)"); done
if CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOCKCA_FUZZ=ON \
      -DMOCKCA_INTEROP=OFF >/dev/null &&
   cmake --build build-fuzz -j"$jobs" --target "${fuzz_targets[@]}"; then
  for fuzzer in build-fuzz/tests/fuzz_*; do
    [ -x "$fuzzer" ] || continue
    name=$(basename "$fuzzer")
    corpus="$root/tests/fuzz/corpus/${name#fuzz_}"
    work=$(mktemp -d)
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
    # A crashing input lands in build-fuzz/ as crash-<sha1>; the log below names it.
    if "$fuzzer" -max_total_time="$fuzz_seconds" -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$root/build-fuzz/" "$work" >"$work.log" 2>&1; then
      echo "fuzz $name: ok ($(grep -E 'stat::number_of_executed_units' "$work.log" | awk '{print $2}') runs)"
      passed=$((passed + 1))
    else
      echo "fuzz $name: FAILED"; tail -n 40 "$work.log"
      grep -E 'Test unit written to' "$work.log" | sed 's/^/  reproducer: /'
      failed=$((failed + 1)); status=1
    fi
    rm -rf "$work" "$work.log"
  done
else
  echo "fuzz build FAILED"; failed=$((failed + 1)); status=1
fi

echo
echo "${passed} passed, ${failed} failed"
exit "$status"
