#!/usr/bin/env bash
# certcli_pebble.sh: certcli against Debian's pebble 2.4.0 with pebble-challtestsrv, each a
# separate process on free ports: http-01, tls-alpn-01, dns-01 with a wildcard (through
# challtestsrv's management API), External Account Binding (and a wrong HMAC refused),
# revocation by the account and by the certificate's key, account key rollover (issuing
# still works with the new key) and account deactivation (then the account is refused).
# Every issued certificate's SANs are checked with openssl, and its chain verified with
# `openssl verify` against the root Pebble serves on its management API (/roots/0).
#
# Env: MC_BUILD_DIR (certcli at $MC_BUILD_DIR/client/certcli). Exit 77 only when pebble or
# another tool is not installed.
#
# Set-up notes, found by running the Debian binaries:
# - Debian's pebble ships no TLS certificate for its listener (`dpkg -L pebble`: only
#   example configs naming test/certs/localhost/*.pem, not installed), so a P-256 one for
#   127.0.0.1 is made here and given to certcli as --ca-bundle.
# - Pebble resolves identifiers through -dnsserver, here challtestsrv, which answers A
#   127.0.0.1 for every name. Its default AAAA answer ::1 is switched off (-defaultIPv6 "")
#   because Pebble would then dial [::1] where certcli's responders do not listen.
# - Debian's pebble-challtestsrv (2.4.0) has no -doh flag; -http01/-https01/-tlsalpn01 ""
#   switch its own responders off so that certcli's answer the challenges.
# - dns-01 runs with --no-propagation-check: certcli's check finds the zone's
#   authoritative servers through NS records, and challtestsrv serves no NS records (an NS
#   query gets an empty answer with an SOA of "challtestsrv.invalid."), so there is nothing
#   to ask: with --dns-resolver and --dns-auth-port pointing at challtestsrv the check ends
#   in "no NS set above _acme-challenge.wild.example.test." (tried). Waiting is not needed either: challtestsrv's set-txt is in effect when its HTTP
#   answer arrives, and Pebble asks that same server.
set -euo pipefail

BIN="${MC_BUILD_DIR:?MC_BUILD_DIR not set}/client/certcli"
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/harness.sh
. "$HERE/lib/harness.sh" # need_tools, stop_all, start_challtestsrv, start_pebble
# shellcheck source=lib/mockca_checks.sh
. "$HERE/lib/mockca_checks.sh" # free_port
need_tools certcli_pebble.sh "ci/install-deps.sh installs pebble, openssl, curl, python3" \
    pebble pebble-challtestsrv openssl curl python3
need_built "$BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/certcli_pebble.XXXXXX")
PIDS=()
trap stop_all EXIT
trap 'exit 130' INT TERM

fail() {
    echo "FAIL: $*" >&2
    for f in "$WORK"/*.log; do
        [ -f "$f" ] && { echo "--- tail of $f" >&2; tail -n 15 "$f" >&2; }
    done
    exit 1
}
step() { echo "== $*" >&2; }

# ---- pebble-challtestsrv (DNS and its management API only) and two Pebbles ----------------
start_challtestsrv

# Pebble's EAB MAC keys are base64url strings of the key bytes.
EAB_KID=kid-1
EAB_HMAC=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W
WRONG_HMAC=b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH

main_DIR='' main_MGMT='' main_HTTP='' main_TLS='' eab_DIR='' eab_HTTP=''
start_pebble main false
start_pebble eab true

# cc SERVERDIR STATEDIR ARGS...: certcli against a Pebble with its TLS trusted.
cc_run() {
    local dir=$1 state=$2
    shift 2
    timeout 120 "$BIN" --server "$dir" --ca-bundle "$WORK/tls.pem" --dir "$state" "$@"
}
# expect_rc WANT LOGNAME CMD...: runs CMD (output to $WORK/LOGNAME.out/.err) and checks its
# exit status.
expect_rc() {
    local want=$1 log=$2 rc=0
    shift 2
    "$@" >"$WORK/$log.out" 2>"$WORK/$log.err" || rc=$?
    if [ "$rc" != "$want" ]; then
        echo "--- $log stderr:" >&2
        cat "$WORK/$log.err" >&2
        fail "$log: exit $rc, expected $want"
    fi
}
# check_cert LINEAGEDIR ROOT NAME...: the leaf's SANs are exactly NAME... and its chain
# verifies to ROOT (Pebble's /roots/0) through the chain file certcli wrote.
check_cert() {
    local d=$1 root=$2 want got
    shift 2
    [ -s "$d/cert.pem" ] || fail "$d/cert.pem missing"
    [ -s "$d/chain.pem" ] || fail "$d/chain.pem missing"
    want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    got=$(openssl x509 -in "$d/cert.pem" -noout -ext subjectAltName |
        tail -n +2 | tr ',' '\n' | sed -n 's/^ *DNS://p' | sort | tr '\n' ' ')
    [ "$got" = "$want" ] || fail "$d: SANs '$got', expected '$want'"
    openssl verify -CAfile "$root" -untrusted "$d/chain.pem" "$d/cert.pem" >"$WORK/verify.out" 2>&1 ||
        fail "$d: chain does not verify: $(cat "$WORK/verify.out")"
    grep -q ': OK$' "$WORK/verify.out" || fail "$d: openssl verify: $(cat "$WORK/verify.out")"
    if [ -f "$d/privkey.pem" ]; then
        [ "$(stat -c %a "$d/privkey.pem")" = 600 ] || fail "$d/privkey.pem is not 0600"
        [ "$(openssl x509 -in "$d/cert.pem" -noout -pubkey)" = \
            "$(openssl pkey -in "$d/privkey.pem" -pubout)" ] || fail "$d: key does not match cert"
    fi
}
# status SERIALHEX MGMT: Pebble's view of a certificate ("Valid" or "Revoked").
status() {
    curl -sf --max-time 5 --cacert "$WORK/tls.pem" "$2/cert-status-by-serial/$1" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["Status"])'
}
serial_of() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f' | sed 's/^0*//'; }

S=$WORK/state
mkdir -p "$S"
HTTP_OPTS=(--http "$main_HTTP" --http-address 127.0.0.1)

# ---- http-01 (registers the account on the way) ----------------------------------------
step "http-01"
expect_rc 0 http cc_run "$main_DIR" "$S" issue -d www.example.test -d example.test \
    "${HTTP_OPTS[@]}" --agree-tos --email admin@example.test
check_cert "$S/certs/www.example.test" "$WORK/main-root.pem" www.example.test example.test

# ---- tls-alpn-01 --------------------------------------------------------------------------
step "tls-alpn-01"
expect_rc 0 alpn cc_run "$main_DIR" "$S" issue -d alpn.example.test \
    --alpn "$main_TLS" --alpn-address 127.0.0.1
check_cert "$S/certs/alpn.example.test" "$WORK/main-root.pem" alpn.example.test

# ---- dns-01 with a wildcard, through challtestsrv's management API ------------------------
step "dns-01 wildcard"
expect_rc 0 dns cc_run "$main_DIR" "$S" issue -d '*.wild.example.test' -d wild.example.test \
    --dns-mgmt "http://127.0.0.1:$CTS_MGMT" --no-propagation-check --name wild
check_cert "$S/certs/wild" "$WORK/main-root.pem" '*.wild.example.test' wild.example.test
# The records are gone again afterwards (the solver cleans up).
if command -v dig >/dev/null 2>&1; then
    txt=$(dig +short @127.0.0.1 -p "$DNS_PORT" TXT _acme-challenge.wild.example.test)
    [ -z "$txt" ] || fail "dns-01 TXT records left behind: $txt"
fi

# ---- revocation by the account ------------------------------------------------------------
step "revoke by account"
SER=$(serial_of "$S/certs/alpn.example.test/cert.pem")
[ "$(status "$SER" "$main_MGMT")" = Valid ] || fail "alpn cert not Valid before revocation"
expect_rc 0 revoke_acct cc_run "$main_DIR" "$S" revoke --name alpn.example.test --reason superseded
[ "$(status "$SER" "$main_MGMT")" = Revoked ] || fail "alpn cert not Revoked after revoke"
# Again: already revoked is "nothing to do".
expect_rc 3 revoke_again cc_run "$main_DIR" "$S" revoke --name alpn.example.test

# ---- revocation by the certificate key (no account in this state dir) ---------------------
step "revoke by certificate key"
L=$S/certs/www.example.test
SER=$(serial_of "$L/cert.pem")
[ "$(status "$SER" "$main_MGMT")" = Valid ] || fail "www cert not Valid before revocation"
mkdir -p "$WORK/nostate"
expect_rc 0 revoke_key cc_run "$main_DIR" "$WORK/nostate" revoke \
    --cert "$L/cert.pem" --cert-key "$L/privkey.pem" --reason keyCompromise
[ "$(status "$SER" "$main_MGMT")" = Revoked ] || fail "www cert not Revoked after revoke"

# ---- key rollover, then issuing with the new key ------------------------------------------
step "key rollover"
ACCT_DIR=$(dirname "$(find "$S/accounts" -name account.key | head -n 1)")
[ -n "$ACCT_DIR" ] || fail "no saved account under $S/accounts"
cp "$ACCT_DIR/account.key" "$WORK/old-account.key"
expect_rc 0 rollover cc_run "$main_DIR" "$S" account rollover
cmp -s "$ACCT_DIR/account.key" "$WORK/old-account.key" && fail "rollover left the saved key unchanged"
# The old key no longer finds the account; the new one does.
expect_rc 1 find_old cc_run "$main_DIR" "$WORK/find-old" account find --key "$WORK/old-account.key"
expect_rc 0 find_new cc_run "$main_DIR" "$WORK/find-new" account find --key "$ACCT_DIR/account.key"
expect_rc 0 after_rollover cc_run "$main_DIR" "$S" issue -d rolled.example.test "${HTTP_OPTS[@]}"
check_cert "$S/certs/rolled.example.test" "$WORK/main-root.pem" rolled.example.test

# ---- deactivation -------------------------------------------------------------------------
step "account deactivate"
expect_rc 0 deactivate cc_run "$main_DIR" "$S" account deactivate
expect_rc 1 after_deactivate cc_run "$main_DIR" "$S" account show
grep -qi 'unauthorized\|deactivated' "$WORK/after_deactivate.err" ||
    fail "after deactivation: no unauthorized problem: $(cat "$WORK/after_deactivate.err")"

# ---- External Account Binding --------------------------------------------------------------
step "EAB"
# Without EAB: refused before anything is sent (usage) or by the CA (failed).
rc=0
cc_run "$eab_DIR" "$WORK/eab-none" account register --agree-tos >"$WORK/eab_none.out" \
    2>"$WORK/eab_none.err" || rc=$?
[ "$rc" = 1 ] || [ "$rc" = 2 ] || fail "EAB-required Pebble: register without EAB exited $rc"
expect_rc 1 eab_wrong cc_run "$eab_DIR" "$WORK/eab-wrong" account register --agree-tos \
    --eab-kid "$EAB_KID" --eab-hmac "$WRONG_HMAC"
expect_rc 0 eab_ok cc_run "$eab_DIR" "$WORK/eab-ok" account register --agree-tos \
    --eab-kid "$EAB_KID" --eab-hmac "$EAB_HMAC"
expect_rc 0 eab_issue cc_run "$eab_DIR" "$WORK/eab-ok" issue -d eab.example.test \
    --http "$eab_HTTP" --http-address 127.0.0.1
check_cert "$WORK/eab-ok/certs/eab.example.test" "$WORK/eab-root.pem" eab.example.test

echo "PASS: certcli against pebble $(dpkg-query -W -f='${Version}' pebble 2>/dev/null || echo '?')"
