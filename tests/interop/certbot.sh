#!/usr/bin/env bash
# certbot.sh: Debian's certbot 2.1 gets certificates from mockca run as a separate process.
#
# mockca starts on kernel-picked ports (it prints the real ones) with a Pebble JSON config
# whose httpPort is a port picked free for certbot's standalone server, then:
#   - standalone http-01: a certificate for two names;
#   - manual dns-01: the hooks set and clear the TXT through the embedded dnsmock's
#     challtestsrv API (/set-txt, /clear-txt);
#   - a wildcard with its base name (two TXT values on one name) through dns-01;
#   - EAB: a wrong HMAC is refused with an ACME problem and nothing is issued; the right
#     one registers and a certificate is issued;
#   - revocation by account (reason keyCompromise) and by the certificate's key: OCSP
#     (`openssl ocsp`, response verified) says revoked and the CRL lists the serial, while
#     a certificate not revoked is good in both.
# Each certificate: `openssl verify` against mockca's issuing root (management /roots/0)
# with the intermediates certbot saved, and its SANs exactly as asked.
# Env: MC_BUILD_DIR (ctest sets it). Exit 0 pass, 1 fail, 77 skip (a tool is missing).
set -u

BUILD=${MC_BUILD_DIR:-}
if [ -z "$BUILD" ]; then
    echo "certbot.sh: MC_BUILD_DIR is not set" >&2
    exit 1
fi
BIN="$BUILD/mockca/mockca"
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/harness.sh
. "$HERE/lib/harness.sh" # need_tools, need_built, stop, stop_all, wait_line, start_mockca
need_tools certbot.sh "ci/install-deps.sh installs certbot, openssl, curl, python3, coreutils" \
    certbot openssl curl python3 timeout
need_built "$BIN"

WORK=$(mktemp -d)
PIDS=()
trap stop_all EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "--- mockca stderr (tail) ---" >&2
    tail -n 40 "$WORK/ca.err" >&2 2>/dev/null
    exit 1
}

# free_port, check_status (OCSP and CRL checks).
. "$(dirname "$0")/lib/mockca_checks.sh"

# A port free right now for certbot's standalone server; mockca's VA connects to it.
HTTP_PORT=$(free_port) || fail "could not pick a free port"

EAB_KID=kid-certbot
EAB_HMAC=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
WRONG_HMAC=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
cat >"$WORK/pebble.json" <<EOF
{"pebble": {
  "listenAddress": "127.0.0.1:0",
  "managementListenAddress": "127.0.0.1:0",
  "httpPort": $HTTP_PORT,
  "tlsPort": $HTTP_PORT,
  "externalAccountBindingRequired": false,
  "externalAccountMACKeys": {"$EAB_KID": "$EAB_HMAC"}
}}
EOF

PEBBLE_VA_NOSLEEP=1 start_mockca "$BIN" "$WORK/pebble.json" || fail "mockca did not start"
[ -n "$MGMT" ] && [ -n "$DNSMGMT" ] && [ -n "$ISSUING_ROOT" ] ||
    fail "mockca did not print its management, dns-management and issuing-root lines"
[ -s "$TLS_ROOT" ] || fail "the TLS root file $TLS_ROOT is missing or empty"

echo "mockca pid $CA_PID: $DIR_URL, management $MGMT, dnsmock $DNSMGMT, http-01 port $HTTP_PORT"

curl -sf --max-time 10 --cacert "$TLS_ROOT" "$MGMT/roots/0" >"$WORK/root.pem" ||
    fail "GET $MGMT/roots/0 failed"
grep -q 'BEGIN CERTIFICATE' "$WORK/root.pem" || fail "/roots/0 is not a PEM certificate"
# The file mockca prints as its issuing root is the same certificate.
cmp -s "$ISSUING_ROOT" "$WORK/root.pem" ||
    fail "the printed issuing-root '$ISSUING_ROOT' differs from /roots/0"

# The manual hooks: certbot exports CERTBOT_DOMAIN and CERTBOT_VALIDATION. /set-txt adds a
# value (a wildcard and its base share one name); /clear-txt drops them all at cleanup.
cat >"$WORK/auth-hook.sh" <<EOF
#!/bin/sh
exec curl -sf --max-time 10 -d "{\"host\":\"_acme-challenge.\$CERTBOT_DOMAIN.\",\"value\":\"\$CERTBOT_VALIDATION\"}" "$DNSMGMT/set-txt"
EOF
cat >"$WORK/cleanup-hook.sh" <<EOF
#!/bin/sh
exec curl -sf --max-time 10 -d "{\"host\":\"_acme-challenge.\$CERTBOT_DOMAIN.\"}" "$DNSMGMT/clear-txt"
EOF
chmod +x "$WORK/auth-hook.sh" "$WORK/cleanup-hook.sh"

export REQUESTS_CA_BUNDLE="$TLS_ROOT"

cb() { # cb NAME ARGS...: certbot with its dirs under $WORK/NAME; output in $WORK/NAME.log
    local name=$1
    shift
    timeout 90 certbot --non-interactive --server "$DIR_URL" --agree-tos \
        --config-dir "$WORK/$name/config" --work-dir "$WORK/$name/work" \
        --logs-dir "$WORK/$name/logs" "$@" >"$WORK/$name.log" 2>&1
}

cb_fail() { # cb_fail NAME MESSAGE: fail with certbot's output
    echo "--- certbot output ($1) ---" >&2
    tail -n 30 "$WORK/$1.log" >&2
    fail "$2"
}

# check_cert LIVE-DIR SAN...: the chain verifies against /roots/0 through certbot's
# chain.pem, and the SAN extension holds exactly the given DNS names.
check_cert() {
    local live=$1 want got
    shift
    [ -s "$live/cert.pem" ] || fail "no certificate in $live"
    openssl verify -CAfile "$WORK/root.pem" -untrusted "$live/chain.pem" "$live/cert.pem" \
        >"$WORK/verify.out" 2>&1 || fail "openssl verify: $(cat "$WORK/verify.out")"
    want=$(printf 'DNS:%s\n' "$@" | sort | tr '\n' ' ')
    got=$(openssl x509 -noout -ext subjectAltName -in "$live/cert.pem" | tail -n +2 |
        tr ',' '\n' | sed 's/^ *//' | grep -v '^$' | sort | tr '\n' ' ')
    [ "$want" = "$got" ] || fail "SANs of $live/cert.pem: want '$want', got '$got'"
}


# 1. standalone http-01, two names
cb http certonly --standalone --http-01-address 127.0.0.1 --http-01-port "$HTTP_PORT" \
    --register-unsafely-without-email -d a.example.com -d www.a.example.com ||
    cb_fail http "certbot standalone http-01 failed"
check_cert "$WORK/http/config/live/a.example.com" a.example.com www.a.example.com
echo "ok: standalone http-01 (2 names)"

# 2. manual dns-01 through the embedded dnsmock
cb dns certonly --manual --preferred-challenges dns -m dns@example.com \
    --manual-auth-hook "$WORK/auth-hook.sh" --manual-cleanup-hook "$WORK/cleanup-hook.sh" \
    -d b.example.com || cb_fail dns "certbot manual dns-01 failed"
check_cert "$WORK/dns/config/live/b.example.com" b.example.com
echo "ok: manual dns-01"

# 3. a wildcard and its base name: two TXT values at _acme-challenge.c.example.org
cb dns certonly --manual --preferred-challenges dns -m dns@example.com \
    --manual-auth-hook "$WORK/auth-hook.sh" --manual-cleanup-hook "$WORK/cleanup-hook.sh" \
    --cert-name wild -d c.example.org -d '*.c.example.org' ||
    cb_fail dns "certbot wildcard through dns-01 failed"
check_cert "$WORK/dns/config/live/wild" c.example.org '*.c.example.org'
echo "ok: wildcard with its base name through dns-01"

# 4. EAB with a wrong HMAC: refused by the server with an ACME problem, nothing issued
if cb eabbad register --eab-kid="$EAB_KID" --eab-hmac-key="$WRONG_HMAC" -m eab@example.com; then
    fail "registration with a wrong EAB HMAC succeeded"
fi
# certbot prints only the detail; its debug log holds the problem document's type.
PROBLEM=$(grep -ho 'urn:ietf:params:acme:error:[A-Za-z]*' "$WORK/eabbad/logs/letsencrypt.log" |
    head -n 1)
[ -n "$PROBLEM" ] || cb_fail eabbad "the wrong-HMAC refusal carries no ACME problem type"
if cb eabbad certonly --standalone --http-01-address 127.0.0.1 --http-01-port "$HTTP_PORT" \
    --eab-kid="$EAB_KID" --eab-hmac-key="$WRONG_HMAC" -m eab@example.com -d eabbad.example.com; then
    fail "certonly with a wrong EAB HMAC succeeded"
fi
[ -e "$WORK/eabbad/config/live/eabbad.example.com/cert.pem" ] &&
    fail "a certificate was issued with a wrong EAB HMAC"
echo "ok: wrong EAB HMAC refused ($PROBLEM)"

# 5. EAB with the right HMAC: registers, and the account gets a certificate
cb eab certonly --standalone --http-01-address 127.0.0.1 --http-01-port "$HTTP_PORT" \
    --eab-kid="$EAB_KID" --eab-hmac-key="$EAB_HMAC" -m eab@example.com -d eab.example.com ||
    cb_fail eab "certbot with the right EAB HMAC failed"
check_cert "$WORK/eab/config/live/eab.example.com" eab.example.com
echo "ok: EAB with the right HMAC"

# 6. revocation: by the account that ordered it (with a reason), and by the certificate's
#    own key from a client that has no account; a certificate not revoked stays good.
LIVE_A="$WORK/http/config/live/a.example.com" LIVE_B="$WORK/dns/config/live/b.example.com"
check_status "$LIVE_A/cert.pem" "$LIVE_A/chain.pem" good
cb http revoke --cert-path "$LIVE_A/cert.pem" --reason keycompromise --no-delete-after-revoke ||
    cb_fail http "certbot revoke by account failed"
check_status "$LIVE_A/cert.pem" "$LIVE_A/chain.pem" revoked
grep -q 'Reason: keyCompromise' "$WORK/ocsp.out" || fail "OCSP does not give the reason keyCompromise"
echo "ok: revoked by account, OCSP and CRL say so"
cb bykey revoke --cert-path "$LIVE_B/cert.pem" --key-path "$LIVE_B/privkey.pem" \
    --no-delete-after-revoke || cb_fail bykey "certbot revoke by certificate key failed"
check_status "$LIVE_B/cert.pem" "$LIVE_B/chain.pem" revoked
check_status "$WORK/dns/config/live/wild/cert.pem" "$WORK/dns/config/live/wild/chain.pem" good
echo "ok: revoked by certificate key; an unrevoked certificate is still good"

echo "PASS certbot.sh"
exit 0
