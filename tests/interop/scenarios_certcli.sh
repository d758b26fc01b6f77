#!/usr/bin/env bash
# scenarios_certcli.sh: every shipped scenario (fixtures/scenarios/*.json) run by
# `mockca run --client certcli` against the certcli binary. A scenario that needs a
# capability this mockca lacks ("requires") is reported SKIP by the runner (exit 3) and
# counted here as skipped; every other one must PASS. Reports land in a temp dir that is
# shown on failure.
# Env: MC_BUILD_DIR, MC_SOURCE_DIR (ctest sets both). Exit 0 pass, 1 fail.
set -u
BUILD=$(cd "${MC_BUILD_DIR:?MC_BUILD_DIR is not set}" && pwd) # absolute: commands run in a work dir
SRC=${MC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CA_BIN="$BUILD/mockca/mockca"
export CERTCLI="$BUILD/client/certcli"
# shellcheck source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh" # need_built
need_built "$CA_BIN" "$CERTCLI"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
pass=0 fail=0 skip=0
for f in "$SRC"/fixtures/scenarios/*.json; do
    name=$(basename "$f" .json)
    "$CA_BIN" run --quiet --scenario "$f" --report-dir "$WORK/$name" --client certcli \
        >"$WORK/$name.out" 2>"$WORK/$name.err"
    rc=$?
    case $rc in
    0) echo "PASS $name"; pass=$((pass + 1)) ;;
    3) echo "SKIP $name"; skip=$((skip + 1)) ;;
    *)
        echo "FAIL $name (exit $rc)"
        fail=$((fail + 1))
        python3 - "$WORK/$name/report.json" <<'PY' 2>/dev/null || tail -n 5 "$WORK/$name.err"
import json, sys
r = json.load(open(sys.argv[1]))
for q in r["requirements"]:
    if q["outcome"] == "fail":
        print("  ", q["id"], q["text"], [f["detail"] for f in q["findings"]])
PY
        tail -n 5 "$WORK/$name/client.log" 2>/dev/null | sed 's/^/   client: /'
        ;;
    esac
done
echo "scenarios: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
