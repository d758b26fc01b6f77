#!/usr/bin/env bash
# certcli_conformance_pebble.sh: `certcli conformance` against Debian's pebble (2.4.0) with
# pebble-challtestsrv, each a separate process on free ports, http-01 answered by certcli's
# own responder on Pebble's httpPort. The script checks the grader, not Pebble: it fails
# when certcli crashes (a signal, or an exit status other than 0 or 1) or when the reports
# are malformed (the JSON does not parse or lacks a catalog id, the JUnit XML does not
# parse or disagrees with the JSON, the HTML is missing its requirement rows). Pebble's own
# deviations are printed as a table and never fail the run.
#
# Env: MC_BUILD_DIR (certcli at $MC_BUILD_DIR/client/certcli). Exit 77 only when pebble or
# another tool is not installed.
#
# Pebble set-up as in certcli_pebble.sh (no TLS certificate shipped: one is made here;
# challtestsrv answers A 127.0.0.1 for every name, its AAAA answer off; its own responders
# off). PEBBLE_WFE_NONCEREJECT=0: Pebble by default refuses 5% of good nonces at random,
# which would make the badNonce-free steps fail by chance; the nonce checks are about
# refusing bad nonces, so the random refusals are switched off.
set -euo pipefail

BIN="${MC_BUILD_DIR:?MC_BUILD_DIR not set}/client/certcli"
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/harness.sh
. "$HERE/lib/harness.sh" # need_tools, stop_all, start_challtestsrv, start_pebble
# shellcheck source=lib/mockca_checks.sh
. "$HERE/lib/mockca_checks.sh" # free_port
need_tools certcli_conformance_pebble.sh \
    "ci/install-deps.sh installs pebble, openssl, curl, python3" \
    pebble pebble-challtestsrv openssl curl python3
need_built "$BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/certcli_conf_pebble.XXXXXX")
PIDS=()
trap stop_all EXIT # KEEP_WORK=1 keeps the reports for a look
trap 'exit 130' INT TERM

fail() {
    echo "FAIL: $*" >&2
    for f in "$WORK"/*.log "$WORK"/*.err; do
        [ -f "$f" ] && { echo "--- tail of $f" >&2; tail -n 20 "$f" >&2; }
    done
    exit 1
}

start_challtestsrv
start_pebble pebble false
DIR=$pebble_DIR
HTTP=$pebble_HTTP

# ---- the run ------------------------------------------------------------------------------
rc=0
timeout 240 "$BIN" conformance --server "$DIR" --ca-bundle "$WORK/tls.pem" \
    --http-port "$HTTP" --http-address 127.0.0.1 --poll-timeout 60 \
    --report-json "$WORK/r.json" --report-junit "$WORK/r.xml" --report-html "$WORK/r.html" \
    >"$WORK/conf.out" 2>"$WORK/conf.err" || rc=$?
cat "$WORK/conf.out"
# 0: no MUST failed; 1: some failed (Pebble's business). Anything else is certcli's fault:
# 2 usage, 124 the timeout, >128 a signal (a crash).
if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
    fail "certcli conformance exited $rc (crash, hang or usage error)"
fi
grep -q "cut short" "$WORK/conf.err" && fail "the run was cut short: $(cat "$WORK/conf.err")"

# ---- the reports --------------------------------------------------------------------------
"$BIN" conformance --help >/dev/null || fail "conformance --help"
python3 - "$WORK/r.json" "$WORK/r.xml" "$WORK/r.html" "$rc" "$DIR" <<'EOF' || fail "reports"
import json, re, sys
import xml.etree.ElementTree as ET

jpath, xpath, hpath, rc, target = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
r = json.load(open(jpath, encoding="utf-8"))
assert r["suite"] == "acme-server", r["suite"]
assert r["target"] == target, r["target"]
reqs = r["requirements"]
ids = [q["id"] for q in reqs]
assert len(ids) >= 40 and len(set(ids)) == len(ids), "catalog ids missing or repeated"
assert all(re.fullmatch(r"ACME-SERVER-[A-Z]+-\d{3}", i) for i in ids), ids
for q in reqs:
    assert q["level"] in ("MUST", "SHOULD") and q["rfc"].startswith("RFC "), q
    assert q["outcome"] in ("pass", "fail", "skip"), q
    assert (q["outcome"] == "fail") == (len(q["findings"]) > 0), q["id"]
t = r["totals"]
assert t["pass"] + t["fail"] + t["skip"] == len(reqs), t
must_fail = sum(1 for q in reqs if q["outcome"] == "fail" and q["level"] == "MUST")
assert t["must_fail"] == must_fail, t
assert (rc == 0) == (must_fail == 0), f"exit {rc} but {must_fail} MUST failures"
xs = r["exchanges"]
assert len(xs) >= 20, f"only {len(xs)} exchanges"
for i, x in enumerate(xs):
    assert x["index"] == i and x["method"] and x["url"].startswith("https://"), x
    assert x["request"]["headers"].startswith(x["method"] + " "), x["request"]["headers"][:80]
    assert x["response"]["headers"].startswith("HTTP/"), x["response"]["headers"][:80]
    for v in x["violations"]:
        assert v in ids, v
for q in reqs:
    for f in q["findings"]:
        assert f["exchange"] < len(xs) and (f["exchange"] < 0 or q["id"] in xs[f["exchange"]]["violations"]), f

# JUnit: one testcase per requirement, failures and skips as in the JSON.
root = ET.parse(xpath).getroot()
suite = root.find("testsuite")
cases = suite.findall("testcase")
assert [c.get("name").split(":")[0] for c in cases] == ids, "JUnit testcases differ from the JSON"
for c, q in zip(cases, reqs):
    assert c.get("classname") == q["level"]
    assert (c.find("failure") is not None) == (q["outcome"] == "fail"), q["id"]
    assert (c.find("skipped") is not None) == (q["outcome"] == "skip"), q["id"]
assert int(suite.get("failures")) == t["fail"] and int(suite.get("tests")) == len(ids)

html = open(hpath, encoding="utf-8").read()
for i in ids:
    assert f'<tr id="req-{i}"' in html, i
assert len(re.findall(r'<div class="exchange(?: has-violation)?" id="x-\d+">', html)) == len(xs)

fails = [q for q in reqs if q["outcome"] == "fail"]
print(f"Pebble: {t['pass']} passed, {t['fail']} failed ({t['must_fail']} MUST, "
      f"{t['should_fail']} SHOULD), {t['skip']} not exercised, {len(xs)} exchanges")
if fails:
    print(f"{'requirement':26} {'level':6} {'section':16} first finding")
    for q in fails:
        print(f"{q['id']:26} {q['level']:6} {q['rfc']:16} {q['findings'][0]['detail'][:110]}")
skips = [q["id"] for q in reqs if q["outcome"] == "skip"]
if skips:
    print("not exercised: " + ", ".join(skips))
EOF

echo "PASS: certcli conformance against pebble $(dpkg-query -W -f='${Version}' pebble 2>/dev/null || echo '?') (exit $rc)"
