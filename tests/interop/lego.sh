#!/usr/bin/env bash
# lego.sh: Debian's lego 4.9.1 gets certificates from mockca run as a separate process.
#
# A dnsmock with a TSIG key serves DNS, and mockca is pointed at it with Pebble's
# -dnsserver flag (so lego's rfc2136 provider can update it); mockca starts on
# kernel-picked ports with a Pebble JSON config whose httpPort and tlsPort are a port
# picked free for lego's own responders. Then:
#   - http-01 (lego's built-in server on 127.0.0.1:P), two names;
#   - tls-alpn-01 (lego's built-in server on 127.0.0.1:P);
#   - dns-01 through the exec provider (a script calling dnsmock's /set-txt, /clear-txt),
#     a wildcard with its base name;
#   - dns-01 through the rfc2136 provider, RFC 2136 updates signed with TSIG;
#   - EAB: a wrong HMAC is refused with an ACME problem and nothing is issued; the right
#     one registers and a certificate is issued;
#   - lego revoke (by account, reason keyCompromise): OCSP (`openssl ocsp`, response
#     verified) says revoked and the CRL lists the serial; another certificate stays good.
# Each certificate: `openssl verify` against mockca's issuing root (management /roots/0)
# with the issuer lego saved, and its SANs exactly as asked.
# Env: MC_BUILD_DIR (ctest sets it). Exit 0 pass, 1 fail, 77 skip (a tool is missing).
set -u

BUILD=${MC_BUILD_DIR:-}
if [ -z "$BUILD" ]; then
    echo "lego.sh: MC_BUILD_DIR is not set" >&2
    exit 1
fi
BIN="$BUILD/mockca/mockca"
DNSMOCK="$BUILD/dnsmock/dnsmock"
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/harness.sh
. "$HERE/lib/harness.sh" # need_tools, need_built, stop, stop_all, wait_line, start_mockca
need_tools lego.sh "ci/install-deps.sh installs lego, openssl, curl, python3, coreutils" \
    lego openssl curl python3 base64 timeout
need_built "$BIN" "$DNSMOCK"

WORK=$(mktemp -d)
PIDS=()
trap stop_all EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "--- mockca stderr (tail) ---" >&2
    tail -n 40 "$WORK/ca.err" >&2 2>/dev/null
    echo "--- dnsmock stderr (tail) ---" >&2
    tail -n 20 "$WORK/dns.err" >&2 2>/dev/null
    exit 1
}

# free_port, check_status (OCSP and CRL checks).
. "$(dirname "$0")/lib/mockca_checks.sh"

# A port free right now for lego's http-01 and tls-alpn-01 servers; mockca's VA connects to it.
PORT=$(free_port) || fail "could not pick a free port"

TSIG_NAME=lego-key
TSIG_SECRET=$(head -c 32 /dev/urandom | base64)
# Clients here listen on IPv4 loopback only, so no default AAAA (challtestsrv's ::1).
"$DNSMOCK" --dns 127.0.0.1:0 --management 127.0.0.1:0 --http01 "" --https01 "" \
    --tlsalpn01 "" --default-ipv6 "" --tsig-key "$TSIG_NAME:hmac-sha256:$TSIG_SECRET" \
    >"$WORK/dns.out" 2>"$WORK/dns.err" &
DNS_PID=$!
PIDS+=("$DNS_PID")
DNS_PORT=$(wait_line "$WORK/dns.out" "$DNS_PID" 's/^dns 127\.0\.0\.1:\([0-9]*\)$/\1/p' dnsmock) ||
    exit 1
DNSMGMT=$(wait_line "$WORK/dns.out" "$DNS_PID" 's/^management \(http:[^ ]*\)$/\1/p' dnsmock) ||
    exit 1
DNS_ADDR="127.0.0.1:$DNS_PORT"

# lego's rfc2136 provider finds the zone by asking the resolvers for its SOA: make the
# zones real.
for z in example.com example.net; do
    curl -sf --max-time 10 -d "{\"zone\":\"$z.\"}" "$DNSMGMT/add-zone" >/dev/null ||
        fail "dnsmock add-zone $z failed"
done

EAB_KID=kid-lego
EAB_HMAC=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
WRONG_HMAC=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
cat >"$WORK/pebble.json" <<EOF
{"pebble": {
  "listenAddress": "127.0.0.1:0",
  "managementListenAddress": "127.0.0.1:0",
  "httpPort": $PORT,
  "tlsPort": $PORT,
  "externalAccountBindingRequired": false,
  "externalAccountMACKeys": {"$EAB_KID": "$EAB_HMAC"}
}}
EOF

PEBBLE_VA_NOSLEEP=1 "$BIN" -config "$WORK/pebble.json" --state-dir "$WORK/state" \
    -dnsserver "$DNS_ADDR" >"$WORK/ca.out" 2>"$WORK/ca.err" &
CA_PID=$!
PIDS+=("$CA_PID")
DIR_URL=$(wait_line "$WORK/ca.out" "$CA_PID" 's/^directory \(https:[^ ]*\)$/\1/p' mockca) || exit 1
MGMT=$(wait_line "$WORK/ca.out" "$CA_PID" 's/^management \(https:[^ ]*\)$/\1/p' mockca) || exit 1
TLS_ROOT=$(wait_line "$WORK/ca.out" "$CA_PID" 's/^tls-root \(.*\)$/\1/p' mockca) || exit 1
ISSUING_ROOT=$(wait_line "$WORK/ca.out" "$CA_PID" 's/^issuing-root \(.*\)$/\1/p' mockca) ||
    exit 1
[ -s "$TLS_ROOT" ] || fail "the TLS root file $TLS_ROOT is missing or empty"
echo "mockca pid $CA_PID: $DIR_URL, management $MGMT; dnsmock $DNS_ADDR, $DNSMGMT; port $PORT"

curl -sf --max-time 10 --cacert "$TLS_ROOT" "$MGMT/roots/0" >"$WORK/root.pem" ||
    fail "GET $MGMT/roots/0 failed"
grep -q 'BEGIN CERTIFICATE' "$WORK/root.pem" || fail "/roots/0 is not a PEM certificate"
# The file mockca prints as its issuing root is the same certificate.
cmp -s "$ISSUING_ROOT" "$WORK/root.pem" ||
    fail "the printed issuing-root '$ISSUING_ROOT' differs from /roots/0"

# The exec provider calls: EXEC_PATH present|cleanup FQDN VALUE (FQDN ends in a dot).
cat >"$WORK/exec.sh" <<EOF
#!/bin/sh
case "\$1" in
present) exec curl -sf --max-time 10 -d "{\"host\":\"\$2\",\"value\":\"\$3\"}" "$DNSMGMT/set-txt" ;;
cleanup) exec curl -sf --max-time 10 -d "{\"host\":\"\$2\"}" "$DNSMGMT/clear-txt" ;;
*) exit 0 ;;
esac
EOF
chmod +x "$WORK/exec.sh"

export LEGO_CA_CERTIFICATES="$TLS_ROOT"
# Short waits: the exec provider sleeps 60 s between authorizations by default.
export EXEC_PATH="$WORK/exec.sh" EXEC_SEQUENCE_INTERVAL=1 EXEC_POLLING_INTERVAL=1
export EXEC_PROPAGATION_TIMEOUT=30
export RFC2136_NAMESERVER="$DNS_ADDR" RFC2136_TSIG_KEY="$TSIG_NAME."
export RFC2136_TSIG_SECRET="$TSIG_SECRET" RFC2136_TSIG_ALGORITHM=hmac-sha256.
export RFC2136_SEQUENCE_INTERVAL=1 RFC2136_POLLING_INTERVAL=1 RFC2136_PROPAGATION_TIMEOUT=30

lg() { # lg NAME ARGS...: lego run with its files under $WORK/NAME; output in $WORK/NAME.log
    local name=$1
    shift
    timeout 90 lego --server "$DIR_URL" --accept-tos --path "$WORK/$name" "$@" run \
        >>"$WORK/$name.log" 2>&1
}

lg_fail() { # lg_fail NAME MESSAGE: fail with lego's output
    echo "--- lego output ($1) ---" >&2
    tail -n 30 "$WORK/$1.log" >&2
    fail "$2"
}

# check_cert NAME DOMAIN SAN...: lego's bundle for DOMAIN verifies against /roots/0 through
# the issuer lego saved, and its leaf holds exactly the given DNS names.
check_cert() {
    local base="$WORK/$1/certificates/$2" want got
    shift 2
    [ -s "$base.crt" ] || fail "no certificate at $base.crt"
    openssl x509 -in "$base.crt" -out "$WORK/leaf.pem" || fail "$base.crt is not PEM"
    openssl verify -CAfile "$WORK/root.pem" -untrusted "$base.issuer.crt" "$WORK/leaf.pem" \
        >"$WORK/verify.out" 2>&1 || fail "openssl verify $base.crt: $(cat "$WORK/verify.out")"
    want=$(printf 'DNS:%s\n' "$@" | sort | tr '\n' ' ')
    got=$(openssl x509 -noout -ext subjectAltName -in "$WORK/leaf.pem" | tail -n +2 |
        tr ',' '\n' | sed 's/^ *//' | grep -v '^$' | sort | tr '\n' ' ')
    [ "$want" = "$got" ] || fail "SANs of $base.crt: want '$want', got '$got'"
}


# 1. http-01
lg acct --email lego@example.com --http --http.port "127.0.0.1:$PORT" \
    --domains h.example.com --domains www.h.example.com || lg_fail acct "lego http-01 failed"
check_cert acct h.example.com h.example.com www.h.example.com
echo "ok: http-01 (2 names)"

# 2. tls-alpn-01
lg acct --email lego@example.com --tls --tls.port "127.0.0.1:$PORT" --domains t.example.com ||
    lg_fail acct "lego tls-alpn-01 failed"
check_cert acct t.example.com t.example.com
echo "ok: tls-alpn-01"

# 3. dns-01 through the exec provider, a wildcard with its base name
# lego 4.9.1's full propagation check asks each NS of the zone on port 53 (the port is
# fixed in its code), which a test cannot serve on a shared machine; --dns.disable-cp keeps
# its first check, a TXT query to --dns.resolvers (dnsmock), and skips that one.
lg acct --email lego@example.com --dns exec --dns.resolvers "$DNS_ADDR" --dns.disable-cp \
    --domains d.example.com --domains '*.d.example.com' || lg_fail acct "lego dns-01 (exec) failed"
check_cert acct d.example.com d.example.com '*.d.example.com'
echo "ok: dns-01 through the exec provider (wildcard and base)"

# 4. dns-01 through the rfc2136 provider, updates signed with TSIG
lg acct --email lego@example.com --dns rfc2136 --dns.resolvers "$DNS_ADDR" --dns.disable-cp \
    --domains r.example.net || lg_fail acct "lego dns-01 (rfc2136 + TSIG) failed"
check_cert acct r.example.net r.example.net
echo "ok: dns-01 through the rfc2136 provider with TSIG"

# 5. EAB with a wrong HMAC: refused by the server with an ACME problem, nothing issued
if lg eabbad --email eab@example.com --eab --kid="$EAB_KID" --hmac="$WRONG_HMAC" \
    --http --http.port "127.0.0.1:$PORT" --domains eabbad.example.com; then
    fail "lego with a wrong EAB HMAC succeeded"
fi
PROBLEM=$(grep -o 'urn:ietf:params:acme:error:[A-Za-z]*' "$WORK/eabbad.log" | head -n 1)
[ -n "$PROBLEM" ] || lg_fail eabbad "the wrong-HMAC refusal carries no ACME problem type"
[ -e "$WORK/eabbad/certificates/eabbad.example.com.crt" ] &&
    fail "a certificate was issued with a wrong EAB HMAC"
echo "ok: wrong EAB HMAC refused ($PROBLEM)"

# 6. EAB with the right HMAC
lg eab --email eab@example.com --eab --kid="$EAB_KID" --hmac="$EAB_HMAC" \
    --http --http.port "127.0.0.1:$PORT" --domains eab.example.com ||
    lg_fail eab "lego with the right EAB HMAC failed"
check_cert eab eab.example.com eab.example.com
echo "ok: EAB with the right HMAC"

# 7. revocation by the account (lego revoke, reason keyCompromise); another certificate
#    stays good. lego revoke reads the certificate from --path for the first --domains.
CERTS="$WORK/acct/certificates"
openssl x509 -in "$CERTS/h.example.com.crt" -out "$WORK/h-leaf.pem" || fail "h.example.com.crt"
openssl x509 -in "$CERTS/t.example.com.crt" -out "$WORK/t-leaf.pem" || fail "t.example.com.crt"
check_status "$WORK/h-leaf.pem" "$CERTS/h.example.com.issuer.crt" good
timeout 60 lego --server "$DIR_URL" --path "$WORK/acct" --email lego@example.com \
    --domains h.example.com revoke --reason 1 --keep >>"$WORK/acct.log" 2>&1 ||
    lg_fail acct "lego revoke failed"
check_status "$WORK/h-leaf.pem" "$CERTS/h.example.com.issuer.crt" revoked
grep -q 'Reason: keyCompromise' "$WORK/ocsp.out" || fail "OCSP does not give the reason keyCompromise"
check_status "$WORK/t-leaf.pem" "$CERTS/t.example.com.issuer.crt" good
echo "ok: revoked by account, OCSP and CRL say so; another certificate is still good"

echo "PASS lego.sh"
exit 0
