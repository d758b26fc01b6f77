#!/usr/bin/env bash
# mockca_cli.sh: the mockca binary as a user runs it in place of Pebble. Starts it twice as
# a separate process on port 0 (GNU options, then Pebble's -config/-dnsserver/-strict with a
# Pebble JSON config), reads the URLs it prints, and checks them with curl, openssl and dig:
# the directory and a nonce over TLS verified against the root file it wrote, /roots/0 from
# the management API, a TXT record set through the embedded dnsmock's challtestsrv API;
# then the exit statuses --help documents (0, 1, 2).
# Env: MC_BUILD_DIR, MC_SOURCE_DIR. Exit 77 only when a tool cannot be found.
set -euo pipefail

BIN="${MC_BUILD_DIR:?MC_BUILD_DIR not set}/mockca/mockca"
SRC="${MC_SOURCE_DIR:?MC_SOURCE_DIR not set}"
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/harness.sh
. "$HERE/lib/harness.sh" # need_tools, need_built, stop_all
need_tools mockca_cli.sh "ci/install-deps.sh installs curl, openssl, dnsutils, python3" \
    curl openssl dig python3
need_built "$BIN"

WORK=$(mktemp -d)
PIDS=()
trap stop_all EXIT

fails=0
check() { # description, then a command that must succeed
    local what=$1; shift
    if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}

# start NAME ARGS...: runs the binary in the background, waits (at most 10 s) for the
# last line it prints at start, and leaves its PID in $PID and its stdout in $WORK/NAME.out.
start() {
    local name=$1; shift
    "$BIN" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 1 100); do
        grep -q '^fault-seed ' "$WORK/$name.out" 2>/dev/null && return 0
        if ! kill -0 "$PID" 2>/dev/null; then
            echo "FAIL: $name exited at start:" >&2; cat "$WORK/$name.err" >&2; exit 1
        fi
        sleep 0.1
    done
    echo "FAIL: $name printed no fault-seed line in 10 s" >&2; cat "$WORK/$name.err" >&2; exit 1
}
field() { awk -v k="$2" '$1 == k { print $2 }' "$WORK/$1.out"; }

# stop_clean PID: SIGTERM, and the exit status must be 0 (a clean stop).
stop_clean() {
    local rc=0
    kill -TERM "$1"
    wait "$1" || rc=$?
    check "stops cleanly on SIGTERM (status $rc)" test "$rc" -eq 0
}

# ---- run 1: GNU options, embedded dnsmock, a fixed seed ---------------------------------
start gnu --listen 127.0.0.1:0 --management 127.0.0.1:0 --dns 127.0.0.1:0 \
    --dns-management 127.0.0.1:0 --state-dir "$WORK/state" --fault-seed 31337
GNU_PID=$PID
cat "$WORK/gnu.out"
DIR=$(field gnu directory); MGMT=$(field gnu management); DNS=$(field gnu dns)
DNSM=$(field gnu dns-management); ROOT=$(field gnu tls-root); ISSUING=$(field gnu issuing-root)
check "directory URL printed" grep -Eq '^https://127\.0\.0\.1:[0-9]+/dir$' <<<"$DIR"
check "management URL printed" grep -Eq '^https://127\.0\.0\.1:[0-9]+$' <<<"$MGMT"
check "dns-management URL printed" grep -Eq '^http://127\.0\.0\.1:[0-9]+$' <<<"$DNSM"
check "root files in --state-dir" test "$ROOT" = "$WORK/state/tls-root.pem" -a \
    "$ISSUING" = "$WORK/state/issuing-root.pem"
check "fault seed as given" test "$(field gnu fault-seed)" = 31337

curl -sS --fail --cacert "$ROOT" "$DIR" >"$WORK/dir.json"
check "directory over TLS verified against the printed root" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["newNonce"].startswith("https://")' \
    "$WORK/dir.json"
NONCE_URL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["newNonce"])' "$WORK/dir.json")
curl -sS --fail -I --cacert "$ROOT" "$NONCE_URL" >"$WORK/nonce.h"
check "HEAD newNonce gives a Replay-Nonce" grep -iEq '^replay-nonce: [A-Za-z0-9_-]+' "$WORK/nonce.h"

curl -sS --fail --cacert "$ROOT" "$MGMT/roots/0" >"$WORK/root0.pem"
check "/roots/0 is an X.509 root" grep -q 'subject=.*mockca' \
    <(openssl x509 -in "$WORK/root0.pem" -noout -subject)
check "/roots/0 is the issuing-root file" cmp -s "$WORK/root0.pem" "$ISSUING"
check "/roots/9 is 404" test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ROOT" \
    "$MGMT/roots/9")" = 404
check "/clock answers" grep -q '"frozen":false' <(curl -sS --cacert "$ROOT" "$MGMT/clock")

check "set-txt through the embedded dnsmock" test "$(curl -s -o /dev/null -w '%{http_code}' \
    -d '{"host":"_acme-challenge.cli.example.","value":"mockca-cli"}' "$DNSM/set-txt")" = 200
DNS_PORT=${DNS##*:}
check "dig sees the TXT" test "$(dig +short +time=2 +tries=1 @127.0.0.1 -p "$DNS_PORT" TXT \
    _acme-challenge.cli.example)" = '"mockca-cli"'

# A second instance on the first one's ACME port cannot bind it: runtime failure, 1.
DIR_HOSTPORT=${DIR#https://}
rc=0
"$BIN" --listen "${DIR_HOSTPORT%/dir}" --management 127.0.0.1:0 --dns 127.0.0.1:0 \
    --dns-management 127.0.0.1:0 --state-dir "$WORK/state2" >/dev/null 2>&1 || rc=$?
check "a taken address exits 1 (got $rc)" test "$rc" -eq 1
stop_clean "$GNU_PID"

# ---- run 2: Pebble's spelling, a Pebble JSON config, an external DNS server ------------
python3 - "$SRC/fixtures/pebble/pebble-config.json" "$WORK/pebble.json" <<'EOF'
import json, sys
cfg = json.load(open(sys.argv[1]))
p = cfg["pebble"]
p["listenAddress"] = "127.0.0.1:0"
p["managementListenAddress"] = "127.0.0.1:0"
p["certificate"] = ""   # the fixture's listener pair is not checked in: generate one
p["privateKey"] = ""
json.dump(cfg, open(sys.argv[2], "w"), indent=2)
EOF
TMPDIR="$WORK" start pebble -config "$WORK/pebble.json" -dnsserver=127.0.0.1:1 -strict
PEB_PID=$PID
cat "$WORK/pebble.out"
DIR=$(field pebble directory); MGMT=$(field pebble management); ROOT=$(field pebble tls-root)
check "-dnsserver is the DNS server asked" test "$(field pebble dns)" = 127.0.0.1:1
check "no embedded dnsmock with -dnsserver" test -z "$(field pebble dns-management)"
PORT=${DIR#https://127.0.0.1:}; PORT=${PORT%/dir}
check "default state dir under TMPDIR, named by the ACME port" \
    test "$ROOT" = "$WORK/mockca-$PORT/tls-root.pem"
check "directory (Pebble-style run)" grep -q newAccount \
    <(curl -sS --fail --cacert "$ROOT" "$DIR")
check "keyAlgorithm rsa from the config file" grep -q rsaEncryption \
    <(curl -sS --fail --cacert "$ROOT" "$MGMT/roots/0" | openssl x509 -noout -text)
stop_clean "$PEB_PID"

# ---- exit statuses ------------------------------------------------------------------------
status() { local rc=0; timeout 10 "$@" >"$WORK/status.out" 2>&1 || rc=$?; echo "$rc"; }
check "--help exits 0 and documents exit codes" test "$(status "$BIN" --help)" = 0
check "--help text" grep -q 'Exit status: 0 stopped cleanly' "$WORK/status.out"
check "-version exits 0" test "$(status "$BIN" -version)" = 0
check "-version text" grep -q '^mockca ' "$WORK/status.out"
check "unknown flag exits 2" test "$(status "$BIN" --bogus)" = 2
check "missing value exits 2" test "$(status "$BIN" --listen)" = 2
check "stray argument exits 2" test "$(status "$BIN" serve)" = 2
check "bad --fault-seed exits 2" test "$(status "$BIN" --fault-seed=abc)" = 2
check "-strict=maybe exits 2" test "$(status "$BIN" -strict=maybe)" = 2
check "missing -config file exits 2" test "$(status "$BIN" -config "$WORK/nope.json")" = 2
echo '{"pebble": {"httpPort": "80"}}' >"$WORK/bad.json"
check "bad config field exits 2" test "$(status "$BIN" --config "$WORK/bad.json")" = 2
check "the error names the field" grep -q httpPort "$WORK/status.out"
check "bad PEBBLE_ variable exits 2" \
    test "$(status env PEBBLE_CHAIN_LENGTH=many "$BIN" --listen 127.0.0.1:0)" = 2
check "bad listen address exits 2" test "$(status "$BIN" --listen nonsense --management '' \
    --dns 127.0.0.1:0 --dns-management '')" = 2

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed" >&2
    exit 1
fi
echo "all mockca CLI checks passed"
