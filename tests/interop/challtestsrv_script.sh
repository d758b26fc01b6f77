#!/usr/bin/env bash
# challtestsrv_script.sh: a script written for pebble-challtestsrv runs unchanged against
# Debian's pebble-challtestsrv and against dnsmock, and sees the same results.
# The scenario function below knows nothing of dnsmock: it gets two ports, as a user's CI
# script would. Env: MC_BUILD_DIR. Exit 77 only when a tool cannot be found.
set -euo pipefail

BIN="${MC_BUILD_DIR:?MC_BUILD_DIR not set}/dnsmock/dnsmock"
for tool in pebble-challtestsrv dig curl python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool is not installed (ci/install-deps.sh installs pebble, dnsutils," \
             "curl, python3)" >&2
        exit 77
    fi
done
[ -x "$BIN" ] || { echo "FAIL: $BIN not built" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# ---- the user's script: written for challtestsrv, parameterized only by ports ----------
scenario() { # dns_port mgmt_port
    local dns=$1 m="http://127.0.0.1:$2"
    q() { dig +short @127.0.0.1 -p "$dns" "$@" | sort | tr '\n' ' '; }
    post() { curl -s -o /dev/null -w '%{http_code}' -d "$2" "$m$1"; }

    echo "set-txt: $(post /set-txt '{"host":"_acme-challenge.example.com.","value":"foo"}')"
    echo "txt: $(q TXT _acme-challenge.example.com)"
    echo "set-txt again: $(post /set-txt '{"host":"_acme-challenge.example.com.","value":"bar"}')"
    echo "txt: $(q TXT _acme-challenge.example.com)"
    echo "clear-txt: $(post /clear-txt '{"host":"_acme-challenge.example.com."}')"
    echo "txt after clear: $(q TXT _acme-challenge.example.com)"
    echo "set-txt empty value: $(post /set-txt '{"host":"x.example.com.","value":""}')"
    echo "set-txt bad json: $(post /set-txt '{"host":')"

    echo "add-a: $(post /add-a '{"host":"a.example.com","addresses":["10.1.2.3","10.1.2.4"]}')"
    echo "a: $(q A a.example.com)"
    echo "clear-a: $(post /clear-a '{"host":"a.example.com"}')"
    echo "a after clear: $(q A a.example.com)"
    echo "add-aaaa: $(post /add-aaaa '{"host":"a.example.com","addresses":["2001:db8::7"]}')"
    echo "aaaa: $(q AAAA a.example.com)"
    echo "aaaa default: $(q AAAA b.example.com)"
    echo "set-default-ipv4: $(post /set-default-ipv4 '{"ip":"10.9.9.9"}')"
    echo "a default: $(q A c.example.com)"
    echo "set-default-ipv4 empty: $(post /set-default-ipv4 '{"ip":""}')"
    echo "a no default: $(q A c.example.com)"
    echo "add-caa: $(post /add-caa '{"host":"a.example.com","policies":[{"tag":"issue","value":"ca.example"}]}')"
    echo "caa: $(q CAA a.example.com)"
    echo "set-cname: $(post /set-cname '{"host":"www.example.com","target":"a.example.com"}')"
    echo "cname: $(q CNAME www.example.com)"
    echo "set-servfail: $(post /set-servfail '{"host":"sf.example.com"}')"
    echo "servfail: $(dig @127.0.0.1 -p "$dns" A sf.example.com | grep -o 'status: [A-Z]*')"
    echo "clear-servfail: $(post /clear-servfail '{"host":"sf.example.com"}')"
    echo "history:"
    curl -s -d '{"host":"c.example.com"}' "$m/dns-request-history"; echo
    echo "clear-request-history: $(post /clear-request-history '{"host":"c.example.com","type":"dns"}')"
    echo "history after clear: $(curl -s -d '{"host":"c.example.com"}' "$m/dns-request-history")"
    echo "clear-request-history bad type: $(post /clear-request-history '{"host":"c.example.com","type":"x"}')"
}
# -----------------------------------------------------------------------------------------

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_http() { # port
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
        sleep 0.1
    done
    echo "FAIL: nothing answers on port $1" >&2; return 1
}

# Debian's pebble-challtestsrv 2.4.0 (-dns01 is its name for -dnsserver).
CDNS=$(free_port); CMGMT=$(free_port)
pebble-challtestsrv -dns01 "127.0.0.1:$CDNS" -management "127.0.0.1:$CMGMT" \
    -http01 "" -https01 "" -tlsalpn01 "" >"$WORK/cts.log" 2>&1 &
PIDS+=($!)
wait_http "$CMGMT"

# dnsmock, started with the very same challtestsrv flags.
DDNS=$(free_port); DMGMT=$(free_port)
"$BIN" -dns01 "127.0.0.1:$DDNS" -management "127.0.0.1:$DMGMT" \
    -http01 "" -https01 "" -tlsalpn01 "" >"$WORK/dm.out" 2>"$WORK/dm.log" &
PIDS+=($!)
wait_http "$DMGMT"

scenario "$CDNS" "$CMGMT" >"$WORK/challtestsrv.txt"
scenario "$DDNS" "$DMGMT" >"$WORK/dnsmock.txt"

echo "--- challtestsrv:"; cat "$WORK/challtestsrv.txt"
if ! diff -u "$WORK/challtestsrv.txt" "$WORK/dnsmock.txt"; then
    echo "FAIL: dnsmock's observable results differ from pebble-challtestsrv's (diff above)"
    exit 1
fi
# Guard against two servers agreeing on nothing: the scenario must have seen its data.
grep -q '^txt: "bar" "foo" $' "$WORK/dnsmock.txt" || { echo "FAIL: TXT not served"; exit 1; }
grep -q '^a: 10.1.2.3 10.1.2.4 $' "$WORK/dnsmock.txt" || { echo "FAIL: A not served"; exit 1; }
echo "PASS: identical results from pebble-challtestsrv and dnsmock"
