#!/usr/bin/env bash
# doh_https01.sh: the dnsmock binary started with challtestsrv's -https01 and -doh flags on
# kernel-picked ports; curl -k fetches an http-01 token over HTTPS, and a TXT record set
# through the management API comes back over DoH (RFC 8484), POST and GET, with a query
# that drill builds (drill -q) and an answer that drill reads (drill -i).
# kdig +https is not used: it speaks DoH over HTTP/2 only, and the http layer
# (libmicrohttpd) serves HTTP/1.1, which RFC 8484 allows.
# Env: MC_BUILD_DIR (the build tree). Exit 77 only when a tool cannot be found.
set -euo pipefail

BIN="${MC_BUILD_DIR:?MC_BUILD_DIR not set}/dnsmock/dnsmock"
for tool in curl drill xxd basenc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool is not installed (ci/install-deps.sh installs curl, ldnsutils," \
             "xxd, coreutils)" >&2
        exit 77
    fi
done
[ -x "$BIN" ] || { echo "FAIL: $BIN not built" >&2; exit 1; }

WORK=$(mktemp -d)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Go-style flags, as a challtestsrv script writes them; port 0: dnsmock prints the real ports.
"$BIN" -dns01 127.0.0.1:0 -management 127.0.0.1:0 -http01 "" -tlsalpn01 "" \
    -https01 127.0.0.1:0 -doh 127.0.0.1:0 >"$WORK/out" 2>"$WORK/err" &
PID=$!
for _ in $(seq 1 100); do
    grep -q '^fault-seed ' "$WORK/out" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
MGMT=$(awk '$1 == "management" { print $2 }' "$WORK/out")
HTTPS01=$(awk '$1 == "https01" { print $2 }' "$WORK/out")
DOH=$(awk '$1 == "doh" { print $2 }' "$WORK/out")
if [ -z "$MGMT" ] || [ -z "$HTTPS01" ] || [ -z "$DOH" ]; then
    echo "FAIL: missing listener lines"; cat "$WORK/out" "$WORK/err"; exit 1
fi
echo "dnsmock pid $PID management $MGMT https01 $HTTPS01 doh $DOH"

fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

api() { # path json
    local code
    code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST -d "$2" "$MGMT$1")
    [ "$code" = 200 ] || fail "POST $1 $2 -> $code $(cat "$WORK/body")"
}

TOKEN=LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0
KEYAUTH="$TOKEN.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

# --- http-01 over HTTPS ------------------------------------------------------------------
api /add-http01 "{\"token\":\"$TOKEN\",\"content\":\"$KEYAUTH\"}"
got=$(curl -sk --max-time 10 "https://$HTTPS01/.well-known/acme-challenge/$TOKEN" || true)
[ "$got" = "$KEYAUTH" ] || fail "https01 token: got '$got'"
curl -s -X POST -d '{"host":"127.0.0.1"}' "$MGMT/http-request-history" >"$WORK/hist"
grep -q '"HTTPS":[[:space:]]*true' "$WORK/hist" || fail "https01 history has no HTTPS entry: $(cat "$WORK/hist")"
# The certificate names 127.0.0.1 (and localhost, ::1) as challtestsrv users expect.
if command -v openssl >/dev/null 2>&1; then
    openssl s_client -connect "$HTTPS01" </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName \
        >"$WORK/san" 2>/dev/null || true
    grep -q 'IP Address:127.0.0.1' "$WORK/san" || fail "https01 certificate SANs: $(cat "$WORK/san")"
fi

# --- DNS over HTTPS ----------------------------------------------------------------------
api /set-txt '{"host":"_acme-challenge.doh.example.com","value":"via-doh"}'
# drill -q writes the query as commented hex; strip it to the wire form.
drill -q "$WORK/q.txt" _acme-challenge.doh.example.com TXT >/dev/null 2>&1 || true
grep -v '^;' "$WORK/q.txt" | sed 's/;.*//' | xxd -r -p >"$WORK/q.bin"
[ -s "$WORK/q.bin" ] || fail "drill -q wrote no query"

doh_check() { # label answer-file
    xxd -p "$2" >"$WORK/a.hex"
    drill -i "$WORK/a.hex" >"$WORK/a.txt" 2>&1 || true
    grep -q 'rcode: NOERROR' "$WORK/a.txt" || fail "$1: not NOERROR: $(cat "$WORK/a.txt")"
    grep -Eq '^_acme-challenge\.doh\.example\.com\.[[:space:]]+0[[:space:]]+IN[[:space:]]+TXT[[:space:]]+"via-doh"' \
        "$WORK/a.txt" || fail "$1: TXT answer missing: $(cat "$WORK/a.txt")"
}

code=$(curl -sk --max-time 10 -o "$WORK/post.bin" -D "$WORK/post.hdr" -w '%{http_code}' \
    -H 'Content-Type: application/dns-message' --data-binary @"$WORK/q.bin" "$DOH")
[ "$code" = 200 ] || fail "DoH POST -> $code"
grep -qi '^content-type: application/dns-message' "$WORK/post.hdr" || fail "DoH POST content type"
grep -qi '^cache-control: max-age=0' "$WORK/post.hdr" || fail "DoH POST cache-control"
doh_check "DoH POST" "$WORK/post.bin"

Q=$(basenc --base64url -w0 "$WORK/q.bin" | tr -d '=')
code=$(curl -sk --max-time 10 -o "$WORK/get.bin" -w '%{http_code}' "$DOH?dns=$Q")
[ "$code" = 200 ] || fail "DoH GET -> $code"
doh_check "DoH GET" "$WORK/get.bin"

code=$(curl -sk --max-time 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' \
    --data-binary @"$WORK/q.bin" "$DOH")
[ "$code" = 415 ] || fail "DoH POST with a wrong content type -> $code, want 415"

# The DNS history records DoH queries like any other.
curl -s -X POST -d '{"host":"_acme-challenge.doh.example.com"}' "$MGMT/dns-request-history" >"$WORK/dh"
grep -q '"Qtype":[[:space:]]*16' "$WORK/dh" || fail "DoH query not in the DNS history: $(cat "$WORK/dh")"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed; dnsmock log:"; tail -20 "$WORK/err"
    exit 1
fi
echo "PASS: https01 and DoH"
