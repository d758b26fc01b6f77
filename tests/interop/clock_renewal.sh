#!/usr/bin/env bash
# clock_renewal.sh: renewal on mockca's virtual clock, end to end with the real binaries.
#   1. certcli issues a certificate over http-01 from mockca; renew says "not due" (exit 3).
#   2. mockca's clock (management POST /clock) moves past 2/3 of the certificate's lifetime;
#      mockca's renewalInfo now shows a suggested window that has begun, and
#      `certcli --now <mockca's time> renew` renews it (exit 0, reason "ari"), with a new
#      serial.
#   3. The clock moves past the old certificate's notAfter: mockca's management API
#      reports it Expired (until it prunes it an hour later), while the renewed one is still Valid and not due (exit 3).
# certcli's --now lets it take the CA's virtual time as its own when deciding what is due.
set -u
BUILD=${MC_BUILD_DIR:?MC_BUILD_DIR must point at the build tree}
CA_BIN="$BUILD/mockca/mockca"
CLI_BIN="$BUILD/client/certcli"
for tool in openssl curl python3 timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "################################################################" >&2
        echo "SKIP clock_renewal.sh: '$tool' is not installed (ci/install-deps.sh)" >&2
        echo "################################################################" >&2
        exit 77
    fi
done
for b in "$CA_BIN" "$CLI_BIN"; do
    [ -x "$b" ] || { echo "FAIL: $b is not built" >&2; exit 1; }
done

WORK=$(mktemp -d)
PIDS=()
fail() {
    echo "FAIL: $*" >&2
    echo "--- certcli stderr ---" >&2
    tail -n 20 "$WORK/cli.err" >&2 2>/dev/null
    echo "--- mockca stderr ---" >&2
    tail -n 20 "$WORK/ca.err" >&2 2>/dev/null
    exit 1
}
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/mockca_checks.sh" # free_port
trap stop_all EXIT

for attempt in 1 2 3 4 5; do
    PORT=$(free_port) || fail "could not pick a free port"
    printf '{"pebble": {"listenAddress": "127.0.0.1:0", "managementListenAddress": "127.0.0.1:0", "httpPort": %s}}\n' \
        "$PORT" >"$WORK/config.json"
    PEBBLE_VA_NOSLEEP=1 start_mockca "$CA_BIN" "$WORK/config.json" || fail "mockca did not start"
    grep -Eq "[:]$PORT(/|\$)" "$WORK/ca.out" || break
    stop "$CA_PID" # mockca's own listener took the port picked for http-01: again
    [ "$attempt" -lt 5 ] || fail "no port free of mockca's own in 5 attempts"
done

cli() { # cli ARGS...: certcli against mockca, output in $WORK/cli.{out,err}, exit in RC
    RC=0
    timeout 120 "$CLI_BIN" --server "$DIR_URL" --ca-bundle "$TLS_ROOT" --dir "$WORK/state" \
        "$@" >"$WORK/cli.out" 2>"$WORK/cli.err" || RC=$?
}
mgmt() { # mgmt METHOD PATH [JSON]: the management API's answer on stdout
    if [ $# -ge 3 ]; then
        curl -sf --max-time 10 --cacert "$TLS_ROOT" -X "$1" -d "$3" "$MGMT$2"
    else
        curl -sf --max-time 10 --cacert "$TLS_ROOT" -X "$1" "$MGMT$2"
    fi
}
field() { # field JSON-TEXT PYTHON-EXPR-OVER-j
    python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}
serial_of() { openssl x509 -noout -serial -in "$1" | sed 's/^serial=//' | tr 'A-F' 'a-f' | sed 's/^0*//'; }
epoch_of() { date -u -d "$(openssl x509 -noout "-$1" -in "$2" | sed 's/^[^=]*=//')" +%s; }
rfc3339() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
mockca_now() { field "$(mgmt GET /clock)" 'j["now_ms"] // 1000'; }

# 1. issue; not due yet
cli account register --agree-tos --email clock@example.com
[ "$RC" = 0 ] || fail "account register: exit $RC"
cli issue -d clock.example.com --http "$PORT" --http-address 127.0.0.1 --name clock
[ "$RC" = 0 ] || fail "issue: exit $RC"
CERT="$WORK/state/certs/clock/cert.pem"
cp "$CERT" "$WORK/old.pem"
OLD=$(serial_of "$CERT")
NB=$(epoch_of startdate "$CERT")
NA=$(epoch_of enddate "$CERT")
echo "ok: issued serial $OLD, valid $(rfc3339 "$NB") .. $(rfc3339 "$NA")"
cli --now "$(rfc3339 "$(mockca_now)")" --json renew --ari-now
[ "$RC" = 3 ] || fail "renew right after issuance: exit $RC, expected 3 (not due)"
echo "ok: renew right after issuance exits 3"

# 2. past 2/3 of the lifetime on mockca's clock: the ARI window is open, renew renews
TARGET=$((NB + (NA - NB) * 7 / 10))
NOW=$(mockca_now)
mgmt POST /clock "{\"advance_ms\": $(((TARGET - NOW) * 1000))}" >/dev/null || fail "POST /clock"
NOW=$(mockca_now)
[ $((NOW - TARGET)) -ge 0 ] && [ $((NOW - TARGET)) -lt 60 ] || fail "mockca's clock is $NOW, not $TARGET"
ARI_ID=$(field "$(cat "$WORK/state/certs/clock/meta.json")" 'j["ari_id"]')
RI=$(field "$(curl -sf --max-time 10 --cacert "$TLS_ROOT" "$DIR_URL")" 'j["renewalInfo"]')
WINDOW=$(curl -sf --max-time 10 --cacert "$TLS_ROOT" "${RI%/}/$ARI_ID") || fail "GET renewalInfo"
START=$(date -u -d "$(field "$WINDOW" 'j["suggestedWindow"]["start"]')" +%s)
[ "$START" -le "$NOW" ] || fail "the ARI window starts $(rfc3339 "$START"), after mockca's now $(rfc3339 "$NOW")"
echo "ok: at $(rfc3339 "$NOW") mockca's ARI window has begun ($(rfc3339 "$START"))"
cli --now "$(rfc3339 "$NOW")" --json renew --ari-now
[ "$RC" = 0 ] || fail "renew past 2/3 of the lifetime: exit $RC, expected 0"
[ "$(field "$(cat "$WORK/cli.out")" 'j["renewed"]')" = 1 ] || fail "renew did not renew: $(cat "$WORK/cli.out")"
REASON=$(field "$(cat "$WORK/cli.out")" '[e.get("reason") for e in j["lineages"]][0]' 2>/dev/null ||
    field "$(cat "$WORK/cli.out")" 'j')
case "$REASON" in *ari*) ;; *) fail "renewed for '$REASON', expected the ARI window" ;; esac
NEW=$(serial_of "$CERT")
[ "$NEW" != "$OLD" ] || fail "renew kept serial $OLD"
echo "ok: renewed for the ARI window: serial $OLD -> $NEW"

# 3. a minute past the old certificate's notAfter (the CA prunes it an hour later): Expired
#    at the CA; the new one Valid and not due
NOW=$(mockca_now)
mgmt POST /clock "{\"advance_ms\": $(((NA + 60 - NOW) * 1000))}" >/dev/null || fail "POST /clock"
NOW=$(mockca_now)
ST=$(field "$(mgmt GET "/cert-status-by-serial/$OLD")" 'j["Status"]') || fail "cert-status $OLD"
[ "$ST" = Expired ] || fail "the old certificate is '$ST' a minute after its notAfter, expected Expired"
ST=$(field "$(mgmt GET "/cert-status-by-serial/$NEW")" 'j["Status"]') || fail "cert-status $NEW"
[ "$ST" = Valid ] || fail "the renewed certificate is '$ST', expected Valid"
openssl x509 -checkend 0 -noout -in "$WORK/old.pem" >/dev/null 2>&1 &&
    [ "$NOW" -lt "$NA" ] && fail "the old certificate should be past notAfter on mockca's clock"
cli --now "$(rfc3339 "$NOW")" --json renew --dry-run
[ "$RC" = 3 ] || fail "renew after the old one expired: exit $RC, expected 3 (the new one is not due)"
echo "ok: at $(rfc3339 "$NOW") the old certificate is Expired, the renewed one Valid and not due"
echo "PASS clock_renewal.sh"
