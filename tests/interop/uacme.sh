#!/usr/bin/env bash
# uacme.sh: Debian's uacme 1.7.4 gets certificates from mockca run as a separate process.
#
# uacme 1.7.4 has no option to name a CA file (1.7.5 added one) and its libcurl ignores
# CURL_CA_BUNDLE, so every uacme call runs under `unshare -m` with mockca's TLS root
# bind-mounted over /etc/ssl/certs/ca-certificates.crt: a private mount namespace, so
# nothing changes on disk or for other processes (root, or unprivileged user namespaces).
#
# mockca starts on kernel-picked ports with a Pebble JSON config whose httpPort is a port
# picked free for a python3 http.server over a webroot; then:
#   - http-01: the hook writes the key authorization under the webroot, two names;
#   - dns-01: the hook sets the TXT through the embedded dnsmock's challtestsrv API, a
#     wildcard with its base name;
#   - EAB: a wrong HMAC is refused, nothing registered; the right one registers and issues;
#   - revocation by account (reason keyCompromise) and signed with the certificate's key:
#     OCSP (`openssl ocsp`, response verified) says revoked and the CRL lists the serial,
#     while a certificate not revoked is good in both.
# uacme offers its hook every challenge type in the server's order; each hook declines
# (exits 1) the types it does not solve.
# Each certificate: `openssl verify` against mockca's issuing root (management /roots/0)
# with the intermediates uacme saved after the leaf, and its SANs exactly as asked.
# Env: MC_BUILD_DIR (ctest sets it). Exit 0 pass, 1 fail, 77 skip (a tool is missing).
set -u

BUILD=${MC_BUILD_DIR:-}
if [ -z "$BUILD" ]; then
    echo "uacme.sh: MC_BUILD_DIR is not set" >&2
    exit 1
fi
BIN="$BUILD/mockca/mockca"
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/harness.sh
. "$HERE/lib/harness.sh" # need_tools, need_built, stop, stop_all, wait_line, start_mockca
need_tools uacme.sh \
    "ci/install-deps.sh installs uacme, util-linux, mount, openssl, curl, python3, coreutils" \
    uacme unshare mount openssl curl python3 timeout
need_built "$BIN"
# The bind mount needs a private mount namespace: as root directly, otherwise inside a user
# namespace where we are root (unshare -r), where the kernel allows unprivileged ones.
UNSHARE=(unshare -m)
if ! unshare -m true 2>/dev/null; then
    UNSHARE=(unshare -r -m)
    if ! unshare -r -m true 2>/dev/null; then
        echo "################################################################" >&2
        echo "SKIP uacme.sh: neither 'unshare -m' (root) nor 'unshare -r -m' (user" >&2
        echo "namespaces) is permitted here, and uacme 1.7.4 cannot be told to trust" >&2
        echo "mockca's TLS root any other way" >&2
        echo "################################################################" >&2
        exit 77
    fi
fi

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

# A port free right now for the http-01 responder; mockca's VA connects to it.
PORT=$(free_port) || fail "could not pick a free port"

EAB_KID=kid-uacme
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

PEBBLE_VA_NOSLEEP=1 start_mockca "$BIN" "$WORK/pebble.json" || fail "mockca did not start"
[ -n "$MGMT" ] && [ -n "$DNSMGMT" ] && [ -n "$ISSUING_ROOT" ] ||
    fail "mockca did not print its management, dns-management and issuing-root lines"
[ -s "$TLS_ROOT" ] || fail "the TLS root file $TLS_ROOT is missing or empty"
curl -sf --max-time 10 --cacert "$TLS_ROOT" "$MGMT/roots/0" >"$WORK/root.pem" ||
    fail "GET $MGMT/roots/0 failed"
grep -q 'BEGIN CERTIFICATE' "$WORK/root.pem" || fail "/roots/0 is not a PEM certificate"
# The file mockca prints as its issuing root is the same certificate.
cmp -s "$ISSUING_ROOT" "$WORK/root.pem" ||
    fail "the printed issuing-root '$ISSUING_ROOT' differs from /roots/0"

# The http-01 responder: a static server over the webroot the hook writes into.
mkdir -p "$WORK/www/.well-known/acme-challenge"
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$WORK/www" \
    >"$WORK/www.log" 2>&1 &
WWW_PID=$!
PIDS+=("$WWW_PID")
echo ready >"$WORK/www/ready"
for _ in $(seq 1 100); do
    curl -sf --max-time 2 "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break
    kill -0 "$WWW_PID" 2>/dev/null || fail "python3 http.server exited at start"
    sleep 0.1
done
curl -sf --max-time 2 "http://127.0.0.1:$PORT/ready" >/dev/null ||
    fail "python3 http.server on port $PORT did not answer within 10 s"
echo "mockca pid $CA_PID: $DIR_URL, management $MGMT, dnsmock $DNSMGMT; webroot on port $PORT"

# Hooks: uacme calls HOOK begin|done|failed TYPE IDENT TOKEN AUTH. For dns-01 AUTH is
# already the TXT value. The token names a file: only base64url characters pass.
cat >"$WORK/hook-http.sh" <<EOF
#!/bin/sh
[ "\$2" = http-01 ] || exit 1
case "\$4" in *[!A-Za-z0-9_-]*|"") exit 1 ;; esac
f="$WORK/www/.well-known/acme-challenge/\$4"
case "\$1" in
begin) printf '%s' "\$5" >"\$f" ;;
done|failed) rm -f "\$f" ;;
*) exit 1 ;;
esac
EOF
cat >"$WORK/hook-dns.sh" <<EOF
#!/bin/sh
[ "\$2" = dns-01 ] || exit 1
case "\$1" in
begin) exec curl -sf --max-time 10 -d "{\"host\":\"_acme-challenge.\$3.\",\"value\":\"\$5\"}" "$DNSMGMT/set-txt" ;;
done|failed) exec curl -sf --max-time 10 -d "{\"host\":\"_acme-challenge.\$3.\"}" "$DNSMGMT/clear-txt" ;;
*) exit 1 ;;
esac
EOF
chmod +x "$WORK/hook-http.sh" "$WORK/hook-dns.sh"

ua() { # ua NAME ARGS...: uacme trusting mockca's TLS root, confdir $WORK/NAME, log NAME.log
    local name=$1
    shift
    timeout 90 "${UNSHARE[@]}" sh -c \
        'mount --bind "$1" /etc/ssl/certs/ca-certificates.crt && shift && exec "$@"' \
        sh "$TLS_ROOT" uacme -v -y -o -c "$WORK/$name" -a "$DIR_URL" "$@" \
        >>"$WORK/$name.log" 2>&1
}

ua_fail() { # ua_fail NAME MESSAGE: fail with uacme's output
    echo "--- uacme output ($1) ---" >&2
    tail -n 30 "$WORK/$1.log" >&2
    fail "$2"
}

# check_cert NAME IDENT SAN...: uacme's cert.pem (the leaf, then the intermediates)
# verifies against /roots/0, and the leaf holds exactly the given DNS names.
check_cert() {
    local pem="$WORK/$1/$2/cert.pem" want got
    shift 2
    [ -s "$pem" ] || fail "no certificate at $pem"
    openssl x509 -in "$pem" -out "$WORK/leaf.pem" || fail "$pem is not PEM"
    awk 'n>=1{print} /END CERTIFICATE/{n++}' "$pem" >"$WORK/chain.pem"
    grep -q 'BEGIN CERTIFICATE' "$WORK/chain.pem" || fail "$pem holds no intermediate"
    openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/chain.pem" "$WORK/leaf.pem" \
        >"$WORK/verify.out" 2>&1 || fail "openssl verify $pem: $(cat "$WORK/verify.out")"
    want=$(printf 'DNS:%s\n' "$@" | sort | tr '\n' ' ')
    got=$(openssl x509 -noout -ext subjectAltName -in "$WORK/leaf.pem" | tail -n +2 |
        tr ',' '\n' | sed 's/^ *//' | grep -v '^$' | sort | tr '\n' ' ')
    [ "$want" = "$got" ] || fail "SANs of $pem: want '$want', got '$got'"
}


# 1. a new account
ua acct new uacme@example.com || ua_fail acct "uacme new failed"
echo "ok: account registered"

# 2. http-01, two names
ua acct -h "$WORK/hook-http.sh" issue u.example.com www.u.example.com ||
    ua_fail acct "uacme http-01 issue failed"
check_cert acct u.example.com u.example.com www.u.example.com
echo "ok: http-01 (2 names)"

# 3. dns-01, a wildcard with its base name
ua acct -h "$WORK/hook-dns.sh" issue v.example.com '*.v.example.com' ||
    ua_fail acct "uacme dns-01 issue failed"
check_cert acct v.example.com v.example.com '*.v.example.com'
echo "ok: dns-01 (wildcard and base)"

# 4. EAB with a wrong HMAC: refused by the server with an ACME problem, no account
if ua eabbad -e "$EAB_KID:$WRONG_HMAC" new eab@example.com; then
    fail "uacme new with a wrong EAB HMAC succeeded"
fi
PROBLEM=$(grep -o 'urn:ietf:params:acme:error:[A-Za-z]*' "$WORK/eabbad.log" | head -n 1)
[ -n "$PROBLEM" ] || ua_fail eabbad "the wrong-HMAC refusal carries no ACME problem type"
if ua eabbad -h "$WORK/hook-http.sh" issue eabbad.example.com; then
    fail "uacme issued without a registered account"
fi
[ -e "$WORK/eabbad/eabbad.example.com/cert.pem" ] &&
    fail "a certificate was issued after a wrong EAB HMAC"
echo "ok: wrong EAB HMAC refused ($PROBLEM)"

# 5. EAB with the right HMAC
ua eab -e "$EAB_KID:$EAB_HMAC" new eab@example.com || ua_fail eab "uacme new with EAB failed"
ua eab -h "$WORK/hook-http.sh" issue eab.example.com || ua_fail eab "uacme issue after EAB failed"
check_cert eab eab.example.com eab.example.com
echo "ok: EAB with the right HMAC"

# 6. revocation: by the account (reason keyCompromise), and signed with the certificate's
#    own key; a certificate not revoked stays good. uacme's cert.pem is the leaf, then the
#    intermediates.
split() { # split IDENT CONFDIR: $WORK/IDENT-leaf.pem and $WORK/IDENT-chain.pem
    openssl x509 -in "$2/$1/cert.pem" -out "$WORK/$1-leaf.pem" || fail "$2/$1/cert.pem"
    awk 'n>=1{print} /END CERTIFICATE/{n++}' "$2/$1/cert.pem" >"$WORK/$1-chain.pem"
}
split u.example.com "$WORK/acct"
split v.example.com "$WORK/acct"
split eab.example.com "$WORK/eab"
check_status "$WORK/u.example.com-leaf.pem" "$WORK/u.example.com-chain.pem" good
ua acct -r 1 revoke "$WORK/acct/u.example.com/cert.pem" || ua_fail acct "uacme revoke failed"
check_status "$WORK/u.example.com-leaf.pem" "$WORK/u.example.com-chain.pem" revoked
grep -q 'Reason: keyCompromise' "$WORK/ocsp.out" || fail "OCSP does not give the reason keyCompromise"
echo "ok: revoked by account, OCSP and CRL say so"
ua acct revoke "$WORK/acct/v.example.com/cert.pem" "$WORK/acct/private/v.example.com/key.pem" ||
    ua_fail acct "uacme revoke with the certificate key failed"
check_status "$WORK/v.example.com-leaf.pem" "$WORK/v.example.com-chain.pem" revoked
check_status "$WORK/eab.example.com-leaf.pem" "$WORK/eab.example.com-chain.pem" good
echo "ok: revoked with the certificate key; an unrevoked certificate is still good"

echo "PASS uacme.sh"
exit 0
