#!/usr/bin/env bash
# report_html_chromium.sh: the HTML conformance report (common/report.c) opened in headless
# Chromium (Debian's chromium). A report is made by `certcli conformance` against a mockca
# binary started here, once with mockca behaving (every requirement passes) and once with
# PEBBLE_WFE_NONCEREJECT=100 (mockca refuses every nonce, so several requirements fail and
# their violations are marked). For each page: a screenshot at 1280x2000 must be a real
# PNG of that size and of non-trivial size, and the DOM Chromium built (--dump-dom) must
# have the summary, one requirements-table row per requirement of the JSON report (ids,
# outcomes), an anchor x-N per exchange, and each violation of the JSON report as an
# element of class "violation" linking to its requirement row, inside its exchange.
#
# Env: MC_BUILD_DIR. Exit 77 only when chromium (or python3/file) is not installed
# (ci/install-deps.sh installs it).
set -euo pipefail

BUILD="${MC_BUILD_DIR:?MC_BUILD_DIR not set}"
CLI="$BUILD/client/certcli"
CA_BIN="$BUILD/mockca/mockca"
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/harness.sh
. "$HERE/lib/harness.sh" # need_tools, need_built, stop, stop_all, start_mockca
# shellcheck source=lib/mockca_checks.sh
. "$HERE/lib/mockca_checks.sh" # free_port
need_tools report_html_chromium.sh "ci/install-deps.sh installs chromium" chromium python3 file
need_built "$CLI" "$CA_BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/report_html.XXXXXX")
PIDS=()
trap stop_all EXIT
trap 'exit 130' INT TERM

fail() {
    echo "FAIL: $*" >&2
    for f in "$WORK"/*.err; do
        [ -f "$f" ] && { echo "--- tail of $f" >&2; tail -n 20 "$f" >&2; }
    done
    exit 1
}

# make_report NAME [ENV=VALUE...]: mockca with the given environment, certcli conformance
# against it; leaves $WORK/NAME.json and $WORK/NAME.html.
make_report() {
    local name=$1 port dir root rc=0
    shift
    # The caller's ENV=VALUE words, exported for this function (and so mockca) only.
    local -x PEBBLE_VA_NOSLEEP=1 "$@"
    port=$(free_port)
    mkdir -p "$WORK/$name-ca"
    cat >"$WORK/$name-ca/pebble.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:0", "managementListenAddress": "",
  "httpPort": $port, "tlsPort": $port}}
EOF
    CA_TAG="$name-ca" start_mockca "$CA_BIN" "$WORK/$name-ca/pebble.json" ||
        fail "mockca ($name) did not start"
    dir=$DIR_URL
    root=$TLS_ROOT
    case "$root" in /*) ;; *) root="$PWD/$root" ;; esac
    timeout 120 "$CLI" conformance --server "$dir" --ca-bundle "$root" --http-port "$port" \
        --http-address 127.0.0.1 --report-json "$WORK/$name.json" \
        --report-html "$WORK/$name.html" >"$WORK/$name-cli.out" 2>"$WORK/$name-cli.err" || rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "certcli conformance ($name) exited $rc"
    [ -s "$WORK/$name.html" ] || fail "no HTML report ($name)"
    stop "$CA_PID"
}

# run_chromium NAME OUTFILE ARGS...: headless chromium on $WORK/NAME.html with a fresh
# profile, stdout to OUTFILE; stopped by PID after at most 60 s.
run_chromium() {
    local name=$1 out=$2 pid
    shift 2
    rm -rf "$WORK/profile"
    chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
        --user-data-dir="$WORK/profile" "$@" "file://$WORK/$name.html" \
        >"$out" 2>>"$WORK/chromium.err" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 600); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        stop "$pid"
        fail "chromium ($name $*) did not finish within 60 s"
    fi
    wait "$pid" 2>/dev/null || true
}

check_page() {
    local name=$1 want_viol=$2 desc
    run_chromium "$name" "$WORK/$name.shot.out" --screenshot="$WORK/$name.png" --window-size=1280,2000
    [ -s "$WORK/$name.png" ] || fail "$name: no screenshot written"
    desc=$(file -b "$WORK/$name.png")
    case "$desc" in
    "PNG image data, 1280 x 2000,"*) ;;
    *) fail "$name: screenshot is '$desc', not a 1280 x 2000 PNG" ;;
    esac
    [ "$(stat -c %s "$WORK/$name.png")" -gt 20000 ] ||
        fail "$name: screenshot is only $(stat -c %s "$WORK/$name.png") bytes (a blank page?)"

    run_chromium "$name" "$WORK/$name.dom" --dump-dom
    [ -s "$WORK/$name.dom" ] || fail "$name: --dump-dom printed nothing"
    python3 - "$WORK/$name.json" "$WORK/$name.dom" "$want_viol" <<'EOF' || fail "$name: DOM structure"
import json, sys
from html.parser import HTMLParser

report = json.load(open(sys.argv[1], encoding="utf-8"))
dom = open(sys.argv[2], encoding="utf-8").read()
want_viol = sys.argv[3] == "yes"

class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack = []          # (tag, attrs) of open elements
        self.ids = {}            # id -> (tag, class)
        self.rows = []           # requirement rows in order: (id attr, class)
        self.violations = []     # (href, enclosing exchange id or None)
        self.summary = False
        self.in_table = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("br", "meta", "img", "hr", "input", "link"):
            self._seen(tag, a)
            return
        self.stack.append((tag, a))
        self._seen(tag, a)
    def _seen(self, tag, a):
        cls = (a.get("class") or "").split()
        if "id" in a:
            assert a["id"] not in self.ids, "duplicate id " + a["id"]
            self.ids[a["id"]] = (tag, cls)
        if a.get("id") == "summary":
            self.summary = True
        if tag == "tr" and any(t == "table" and x.get("id") == "requirements" for t, x in self.stack):
            if "req" in cls:
                self.rows.append((a.get("id"), cls))
        if tag == "a" and "violation" in cls:
            ex = next((x.get("id") for t, x in reversed(self.stack)
                       if "exchange" in (x.get("class") or "").split()), None)
            self.violations.append((a.get("href"), ex))
    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

p = Page()
p.feed(dom)
reqs = report["requirements"]
assert p.summary, "no summary"
assert p.ids.get("requirements", ("",))[0] == "table", "no requirements table"
assert len(p.rows) == len(reqs), f"{len(p.rows)} rows for {len(reqs)} requirements"
for (rid, cls), q in zip(p.rows, reqs):
    assert rid == "req-" + q["id"], (rid, q["id"])
    assert "outcome-" + q["outcome"] in cls, (rid, cls, q["outcome"])
xs = report["exchanges"]
for x in xs:
    assert ("x-%d" % x["index"]) in p.ids, "no anchor for exchange %d" % x["index"]
want = sorted(("#req-" + v, "x-%d" % x["index"]) for x in xs for v in x["violations"])
got = sorted(p.violations)
assert got == want, f"violation links {got[:5]}... differ from the JSON {want[:5]}..."
for href, _ in got:
    assert href[1:] in p.ids and p.ids[href[1:]][0] == "tr", "dangling link " + href
if want_viol:
    assert want, "expected violations in this report"
else:
    assert not want, "expected no violations"
print(f"DOM ok: {len(p.rows)} requirement rows, {len(xs)} exchanges, {len(got)} violation links")
EOF
}

make_report good
make_report nonces PEBBLE_WFE_NONCEREJECT=100
check_page good no
check_page nonces yes
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("nonce-rejecting mockca fails:", ", ".join(q["id"] for q in r["requirements"] if q["outcome"]=="fail"))' "$WORK/nonces.json"
echo "PASS: the HTML report renders in $(chromium --version 2>/dev/null | head -n 1)"
