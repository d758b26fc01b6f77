#!/usr/bin/env bash
# nsupdate.sh: BIND's nsupdate and dig against dnsmock's RFC 2136 + TSIG (RFC 8945).
#
# Starts dnsmock on kernel-picked ports (it prints the real ones), then:
#   - nsupdate -y hmac-sha256:... adds a TXT; dig sees it;
#   - nsupdate (over TCP) deletes it; dig no longer sees it;
#   - an update signed with a wrong secret fails (nsupdate exits non-zero), changes nothing;
#   - an unsigned update is refused, changes nothing;
#   - a prerequisite that fails (nxrrset on an existing set) fails the update;
#   - hmac-sha384 (not in ldns 1.8.3; dnsmock's own HMAC path) adds a TXT.
#   - with no "zone" line, nsupdate finds the zone through a TSIG-signed SOA query.
# Env: MC_BUILD_DIR (ctest sets it). Exit 0 pass, 1 fail, 77 skip (a tool is missing).
set -u

BUILD=${MC_BUILD_DIR:-}
if [ -z "$BUILD" ]; then
    echo "nsupdate.sh: MC_BUILD_DIR is not set" >&2
    exit 1
fi
BIN="$BUILD/dnsmock/dnsmock"
for tool in nsupdate dig base64 curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "################################################################" >&2
        echo "SKIP nsupdate.sh: '$tool' is not installed (Debian: dnsutils)" >&2
        echo "################################################################" >&2
        exit 77
    fi
done
if [ ! -x "$BIN" ]; then
    echo "FAIL: $BIN is not built" >&2
    exit 1
fi

WORK=$(mktemp -d)
PID=""
cleanup() {
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null
        for _ in $(seq 1 50); do
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "--- dnsmock stderr (tail) ---" >&2
    tail -n 30 "$WORK/err" >&2 2>/dev/null
    exit 1
}

SECRET=$(head -c 32 /dev/urandom | base64)
WRONG=$(head -c 32 /dev/urandom | base64)
SECRET384=$(head -c 48 /dev/urandom | base64)
KEY=update-key
ZONE=example.com
NAME=_acme-challenge.www.example.com

"$BIN" --dns 127.0.0.1:0 --management 127.0.0.1:0 --http01 "" --tlsalpn01 "" --https01 "" \
    --tsig-key "$KEY:hmac-sha256:$SECRET" --tsig-key "k384:hmac-sha384:$SECRET384" \
    >"$WORK/out" 2>"$WORK/err" &
PID=$!

PORT=""
for _ in $(seq 1 100); do
    PORT=$(sed -n 's/^dns 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/out" | head -n 1)
    [ -n "$PORT" ] && break
    kill -0 "$PID" 2>/dev/null || fail "dnsmock exited at start"
    sleep 0.1
done
[ -n "$PORT" ] || fail "dnsmock did not print its DNS port within 10 s"
echo "dnsmock pid $PID, DNS on 127.0.0.1:$PORT"

txt() { # the TXT answers for $1, one per line
    dig @127.0.0.1 -p "$PORT" +short +time=2 +tries=1 "$1" TXT
}

upd() { # upd NSUPDATE-ARGS... ; commands on stdin
    timeout 20 nsupdate "$@"
}

# 1. add with hmac-sha256
printf 'server 127.0.0.1 %s\nzone %s\nupdate add %s 60 TXT "token-one"\nsend\n' \
    "$PORT" "$ZONE" "$NAME" | upd -y "hmac-sha256:$KEY:$SECRET" ||
    fail "signed add was not accepted"
txt "$NAME" | grep -qx '"token-one"' || fail "dig does not see the added TXT"
echo "ok: signed add visible"

# 2. wrong secret: refused, nothing changes
if printf 'server 127.0.0.1 %s\nzone %s\nupdate delete %s TXT\nupdate add %s 60 TXT "evil"\nsend\n' \
    "$PORT" "$ZONE" "$NAME" "$NAME" | upd -y "hmac-sha256:$KEY:$WRONG" 2>"$WORK/bad"; then
    fail "an update signed with the wrong secret succeeded"
fi
txt "$NAME" | grep -qx '"token-one"' || fail "the bad-secret update changed the zone"
txt "$NAME" | grep -q evil && fail "the bad-secret update added data"
echo "ok: wrong secret refused ($(tr '\n' ' ' <"$WORK/bad" | cut -c1-100))"

# 3. unsigned: refused
if printf 'server 127.0.0.1 %s\nzone %s\nupdate add %s 60 TXT "unsigned"\nsend\n' \
    "$PORT" "$ZONE" "$NAME" | upd 2>/dev/null; then
    fail "an unsigned update succeeded"
fi
txt "$NAME" | grep -q unsigned && fail "the unsigned update added data"
echo "ok: unsigned refused"

# 4. a failing prerequisite (the TXT set exists) fails the whole update
if printf 'server 127.0.0.1 %s\nzone %s\nprereq nxrrset %s TXT\nupdate add %s 60 TXT "prereq"\nsend\n' \
    "$PORT" "$ZONE" "$NAME" "$NAME" | upd -y "hmac-sha256:$KEY:$SECRET" 2>/dev/null; then
    fail "an update whose prerequisite fails succeeded"
fi
txt "$NAME" | grep -q prereq && fail "the failed-prerequisite update added data"
echo "ok: failing prerequisite"

# 5. delete over TCP
printf 'server 127.0.0.1 %s\nzone %s\nupdate delete %s TXT "token-one"\nsend\n' \
    "$PORT" "$ZONE" "$NAME" | upd -v -y "hmac-sha256:$KEY:$SECRET" ||
    fail "signed delete was not accepted"
txt "$NAME" | grep -q token-one && fail "dig still sees the deleted TXT"
echo "ok: signed delete (TCP)"

# 6. hmac-sha384
printf 'server 127.0.0.1 %s\nzone %s\nupdate add %s 60 TXT "via-384"\nsend\n' \
    "$PORT" "$ZONE" "$NAME" | upd -y "hmac-sha384:k384:$SECRET384" ||
    fail "hmac-sha384 add was not accepted"
txt "$NAME" | grep -qx '"via-384"' || fail "dig does not see the hmac-sha384 TXT"
echo "ok: hmac-sha384 add"

# 7. no "zone" line: nsupdate finds the zone itself with a TSIG-signed SOA query, and
#    refuses an unsigned answer ("expected a TSIG or SIG(0)"). The zone must exist.
MGMT=$(sed -n 's/^management \(http:[^ ]*\)$/\1/p' "$WORK/out" | head -n 1)
[ -n "$MGMT" ] || fail "dnsmock did not print its management URL"
curl -sf -d "{\"zone\":\"$ZONE.\"}" "$MGMT/add-zone" >/dev/null || fail "add-zone failed"
printf 'server 127.0.0.1 %s\nupdate add %s 60 TXT "zone-found"\nsend\n' "$PORT" "$NAME" |
    upd -y "hmac-sha256:$KEY:$SECRET" 2>"$WORK/nozone" ||
    fail "nsupdate without a zone line failed: $(tr '\n' ' ' <"$WORK/nozone" | cut -c1-200)"
txt "$NAME" | grep -qx '"zone-found"' || fail "dig does not see the TXT added without a zone line"
echo "ok: zone found through a signed SOA query"

echo "PASS nsupdate.sh"
exit 0
