#!/usr/bin/env bash
# certcli_mockca.sh: the certcli binary end to end against mockca, both run as separate
# processes. mockca starts on kernel-picked ports with a Pebble JSON config whose httpPort
# is a port picked free for certcli's built-in http-01 server, and with its embedded
# dnsmock (DNS and challtestsrv-style management API on kernel-picked ports). Then:
#   - `--help` of every subcommand exits 0; usage errors exit 2;
#   - directory --json; account register (0, then 3), show, update (0, then 3), rollover
#     (the old key kept as a backup, the account still usable);
#   - issue with http-01 (two names) and a deploy hook that writes a marker file; an IP
#     identifier over http-01; a name over tls-alpn-01 (mockca's tlsPort is the same port);
#     a user's CSR with --profile (no privkey.pem; renew refuses it); --preferred-chain
#     picking the alternate chain mockca offers with PEBBLE_ALTERNATE_ROOTS=1;
#   - issue a wildcard with its base name through dns-01 and the embedded dnsmock's
#     management API, with the propagation check on: --dns-resolver and --dns-auth-port
#     point at the embedded dnsmock, which is both the resolver that answers NS and the
#     authoritative server it names (example.com is added as a zone with NS
#     ns1.example.com, whose default A is 127.0.0.1), so the check is the real one, walking
#     NS and asking the authoritative server directly;
#   - each certificate: files and modes, `openssl x509 -ext subjectAltName`, and
#     `openssl verify` against mockca's issuing root (management /roots/0);
#   - renew: exit 3 when not due (ARI state kept in meta.json), 0 with --force using the
#     solvers and deploy hook meta.json remembers, a new serial and "replaced" set; an ARI
#     window set in the past (/set-renewal-info/) renews with reason "ari" once asked; a
#     deploy hook that runs over --hook-timeout is killed (exit 1, the certificate kept);
#   - revoke by account (reason keyCompromise): exit 0, the management API's
#     /cert-status-by-serial says Revoked, a second revoke exits 3; revoke by certificate key;
#   - a dns-01 challenge that cannot validate: exit 1 naming the challenge's problem;
#   - account deactivate, after which issue fails with exit 1 naming the ACME problem;
#   - External Account Binding against a second mockca that requires it: exit 2 without
#     EAB, 1 with a wrong HMAC (nothing saved), 0 with the right one.
# Every --json output is parsed with python3.
# Env: MC_BUILD_DIR (ctest sets it). Exit 0 pass, 1 fail, 77 skip (a tool is missing).
set -u

BUILD=${MC_BUILD_DIR:-}
if [ -z "$BUILD" ]; then
    echo "certcli_mockca.sh: MC_BUILD_DIR is not set" >&2
    exit 1
fi
CA_BIN="$BUILD/mockca/mockca"
CLI_BIN="$BUILD/client/certcli"
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/harness.sh
. "$HERE/lib/harness.sh" # need_tools, need_built, stop, stop_all, start_mockca
# shellcheck source=lib/mockca_checks.sh
. "$HERE/lib/mockca_checks.sh" # free_port
need_tools certcli_mockca.sh "ci/install-deps.sh installs openssl, curl, python3, coreutils" \
    openssl curl python3 timeout
need_built "$CA_BIN" "$CLI_BIN"

WORK=$(mktemp -d)
PIDS=()
trap stop_all EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "--- last certcli stderr ---" >&2
    tail -n 30 "$WORK/cli.err" >&2 2>/dev/null
    echo "--- mockca stderr (tail) ---" >&2
    tail -n 30 "$WORK/ca.err" >&2 2>/dev/null
    exit 1
}
ok() { echo "ok: $*"; }

# A port free right now for certcli's http-01 and tls-alpn-01 servers; mockca's VA
# connects to it. free_port closes its socket, so mockca's own kernel-picked listeners
# may land on the same number: then mockca is started again with another port.
for attempt in 1 2 3 4 5; do
    PORT=$(free_port) || fail "could not pick a free port"
    cat >"$WORK/pebble.json" <<EOF
{"pebble": {
  "listenAddress": "127.0.0.1:0",
  "managementListenAddress": "127.0.0.1:0",
  "httpPort": $PORT,
  "tlsPort": $PORT
}}
EOF
    PEBBLE_VA_NOSLEEP=1 PEBBLE_ALTERNATE_ROOTS=1 start_mockca "$CA_BIN" "$WORK/pebble.json" ||
        fail "mockca did not start"
    if ! grep -Eq "[:]$PORT(/|\$)" "$WORK/ca.out"; then
        break
    fi
    echo "port $PORT was taken by mockca itself (attempt $attempt): again"
    stop "$CA_PID"
    [ "$attempt" -lt 5 ] || fail "no port free of mockca's own in 5 attempts"
done
DNS_PORT=${DNS_ADDR##*:}
echo "mockca pid $CA_PID: $DIR_URL, management $MGMT, dns $DNS_ADDR ($DNSMGMT); http-01 port $PORT"

curl -sf --max-time 10 --cacert "$TLS_ROOT" "$MGMT/roots/0" >"$WORK/root.pem" ||
    fail "GET $MGMT/roots/0 failed"
grep -q 'BEGIN CERTIFICATE' "$WORK/root.pem" || fail "/roots/0 is not a PEM certificate"

STATE="$WORK/state"
# cli ARGS...: certcli against mockca; stdout in $WORK/cli.out, stderr in $WORK/cli.err;
# sets RC. Bounded: a hang is a failure, not a stuck CI job.
cli() {
    RC=0
    timeout 120 "$CLI_BIN" --server "$DIR_URL" --ca-bundle "$TLS_ROOT" --dir "$STATE" "$@" \
        >"$WORK/cli.out" 2>"$WORK/cli.err" || RC=$?
}
expect_rc() { # expect_rc WANT WHAT
    [ "$RC" = "$1" ] || fail "$2: exit $RC, expected $1"
}
# jq_py EXPR: evaluates a Python expression over j, the JSON object certcli printed.
jq_py() {
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(r if not isinstance(r,bool) else ("yes" if r else "no"))' \
        "$WORK/cli.out" "$1" 2>>"$WORK/cli.err" || fail "--json output is not the expected JSON: $(cat "$WORK/cli.out")"
}
json_is() { # json_is EXPR WANT WHAT
    local got
    got=$(jq_py "$1") || exit 1
    [ "$got" = "$2" ] || fail "$3: $1 is '$got', expected '$2'"
}
mode_of() { stat -c %a "$1"; }

# ---- 1. help and usage ------------------------------------------------------------------
for sub in account issue certonly renew revoke directory bench; do
    RC=0
    "$CLI_BIN" "$sub" --help >"$WORK/help.out" 2>&1 || RC=$?
    expect_rc 0 "certcli $sub --help"
    grep -q 'Usage\|usage' "$WORK/help.out" || fail "certcli $sub --help prints no usage line"
    RC=0
    "$CLI_BIN" help "$sub" >/dev/null 2>&1 || RC=$?
    expect_rc 0 "certcli help $sub"
done
RC=0; "$CLI_BIN" --help >"$WORK/help.out" 2>&1 || RC=$?
expect_rc 0 "certcli --help"
grep -q '3  nothing to do' "$WORK/help.out" || fail "certcli --help does not list the exit codes"
ok "--help of certcli and every subcommand exits 0"
for args in "--bogus" "frobnicate" "issue --http 80" "issue -d bad..name --http 80" \
    "renew --days soon" "revoke" "account" "account frobnicate" "account update" \
    "issue -d a.example --not-after yesterday --http 1" "revoke --cert x --reason nope"; do
    RC=0
    # shellcheck disable=SC2086
    "$CLI_BIN" --dir "$STATE" $args >/dev/null 2>"$WORK/cli.err" || RC=$?
    expect_rc 2 "certcli $args"
done
ok "usage errors exit 2"

# ---- 2. directory and account -------------------------------------------------------------
cli --json directory
expect_rc 0 "directory"
json_is '"newOrder" in j["directory"] and j["result"] == "ok"' yes "directory --json"
ARI=$(jq_py '"renewalInfo" in j["directory"]')
ok "directory --json (renewalInfo offered: $ARI)"

cli --json account register --email one@example.com --agree-tos
expect_rc 0 "account register"
json_is 'j["result"]' registered "account register"
json_is 'j["status"]' valid "account register status"
ACCT=$(jq_py 'j["account"]')
ADIR=$(dirname "$(find "$STATE/accounts" -name account.key | head -n 1)")
[ -f "$ADIR/account.key" ] || fail "no account.key under $STATE/accounts"
[ "$(mode_of "$ADIR/account.key")" = 600 ] || fail "account.key mode $(mode_of "$ADIR/account.key")"
cli account register --email one@example.com --agree-tos
expect_rc 3 "account register again"
ok "account register: 0, then 3 (exists); key 0600 in $ADIR"

cli --json account show
expect_rc 0 "account show"
json_is 'j["account"]' "$ACCT" "account show URL"
json_is '"mailto:one@example.com" in j["contact"]' yes "account show contact"
cli --json account update --email two@example.com --email three@example.com
expect_rc 0 "account update"
json_is 'sorted(j["contact"])' "['mailto:three@example.com', 'mailto:two@example.com']" \
    "account update contacts"
cli account update --email three@example.com --email two@example.com
expect_rc 3 "account update with the same contacts"
ok "account show, update (0, then 3 when unchanged)"

OLD_THUMB=$(cli --json account show && jq_py 'j["key_thumbprint"]') || exit 1
cli --json account rollover --key-type ec384
expect_rc 0 "account rollover"
json_is 'j["result"]' rolled-over "account rollover"
BACKUP=$(jq_py 'j["backup"]')
[ -f "$BACKUP" ] || fail "no backup of the old account key at $BACKUP"
[ "$(mode_of "$BACKUP")" = 600 ] || fail "backup key mode $(mode_of "$BACKUP")"
cli --json account show
expect_rc 0 "account show after rollover"
json_is 'j["key_type"]' ec384 "account key type after rollover"
json_is 'j["account"]' "$ACCT" "account URL after rollover"
[ "$(jq_py 'j["key_thumbprint"]')" != "$OLD_THUMB" ] || fail "the key did not change"
ok "account rollover: new ec384 key in use, old key kept as $(basename "$BACKUP")"

# ---- 3. issue with http-01 ------------------------------------------------------------
MARK="$WORK/deploy.marker"
HOOK="echo \"\$CERTCLI_LINEAGE_NAME|\$CERTCLI_DOMAINS|\$CERTCLI_FULLCHAIN|\$CERTCLI_KEY\" >>$MARK"
cli --json issue -d h.example.com -d www.h.example.com --http "$PORT" --http-address 127.0.0.1 \
    --key-type rsa2048 --deploy-hook "$HOOK"
expect_rc 0 "issue (http-01)"
json_is 'j["result"]' issued "issue --json result"
json_is 'j["lineage"]' h.example.com "issue default lineage name"
LIN="$STATE/certs/h.example.com"

# check_lineage DIR SAN...: the files, their modes, the SANs and the chain.
check_lineage() {
    local d=$1 want got
    shift
    for f in cert.pem chain.pem fullchain.pem privkey.pem meta.json; do
        [ -s "$d/$f" ] || fail "$d/$f is missing or empty"
    done
    [ "$(mode_of "$d/privkey.pem")" = 600 ] || fail "privkey.pem mode $(mode_of "$d/privkey.pem")"
    cmp -s "$d/fullchain.pem" <(cat "$d/cert.pem" "$d/chain.pem") ||
        fail "fullchain.pem is not cert.pem + chain.pem"
    openssl verify -CAfile "$WORK/root.pem" -untrusted "$d/chain.pem" "$d/cert.pem" \
        >"$WORK/verify.out" 2>&1 || fail "openssl verify $d/cert.pem: $(cat "$WORK/verify.out")"
    [ "$(openssl x509 -noout -modulus -in "$d/cert.pem" 2>/dev/null | sha256sum)" = \
        "$(openssl rsa -noout -modulus -in "$d/privkey.pem" 2>/dev/null | sha256sum)" ] ||
        [ "$(openssl x509 -noout -pubkey -in "$d/cert.pem" | sha256sum)" = \
            "$(openssl pkey -pubout -in "$d/privkey.pem" | sha256sum)" ] ||
        fail "privkey.pem is not the key of cert.pem"
    want=$(printf 'DNS:%s\n' "$@" | sort | tr '\n' ' ')
    got=$(openssl x509 -noout -ext subjectAltName -in "$d/cert.pem" | tail -n +2 |
        tr ',' '\n' | sed 's/^ *//' | grep -v '^$' | sort | tr '\n' ' ')
    [ "$want" = "$got" ] || fail "SANs of $d/cert.pem: want '$want', got '$got'"
}
check_lineage "$LIN" h.example.com www.h.example.com
python3 - "$LIN/meta.json" <<'EOF' || fail "meta.json of h.example.com"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["challenge"] == "http-01", m["challenge"]
assert m["key_type"] == "rsa2048", m["key_type"]
assert sorted(i["value"] for i in m["identifiers"]) == ["h.example.com", "www.h.example.com"]
assert m["serial"] and m["not_after"] and m["solver"]["http"] > 0
EOF
grep -qx "h.example.com|h.example.com www.h.example.com|$LIN/fullchain.pem|$LIN/privkey.pem" \
    "$MARK" || fail "the deploy hook did not write what was expected: $(cat "$MARK" 2>&1)"
ok "issue http-01: files, 0600 key, SANs, chain verifies against /roots/0, meta.json, deploy hook"

# ---- 3b. an IP identifier (RFC 8738) over http-01, and tls-alpn-01 ------------------------
cli --json issue --ip 127.0.0.1 --name loopback --http "$PORT" --http-address 127.0.0.1
expect_rc 0 "issue --ip (http-01)"
got=$(openssl x509 -noout -ext subjectAltName -in "$STATE/certs/loopback/cert.pem" | tail -n +2 |
    sed 's/^ *//')
[ "$got" = "IP Address:127.0.0.1" ] || fail "SANs of the IP certificate: '$got'"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$STATE/certs/loopback/chain.pem" \
    "$STATE/certs/loopback/cert.pem" >/dev/null 2>&1 || fail "the IP certificate does not verify"
cli --json issue -d t.example.com --alpn "$PORT" --alpn-address 127.0.0.1 --key-type ec384
expect_rc 0 "issue (tls-alpn-01)"
json_is 'j["challenge"]' tls-alpn-01 "tls-alpn-01 challenge"
check_lineage "$STATE/certs/t.example.com" t.example.com
ok "issue an IP identifier (http-01) and a name over tls-alpn-01"

# A CSR made by the user: no privkey.pem in the lineage, the certificate carries the CSR's
# key; renewing it is refused (certcli has no key to make a new CSR with).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/csr.key" \
    -subj /CN=csr.example.com -addext "subjectAltName=DNS:csr.example.com,DNS:www.csr.example.com" \
    -out "$WORK/csr.pem" >/dev/null 2>&1 || fail "openssl req failed"
cli --json issue --csr "$WORK/csr.pem" --http "$PORT" --http-address 127.0.0.1 --profile default
expect_rc 0 "issue --csr"
json_is 'j["lineage"]' csr.example.com "CSR lineage name"
CLIN="$STATE/certs/csr.example.com"
[ ! -e "$CLIN/privkey.pem" ] || fail "a CSR lineage has a privkey.pem"
[ "$(openssl x509 -noout -pubkey -in "$CLIN/cert.pem" | sha256sum)" = \
    "$(openssl pkey -pubout -in "$WORK/csr.key" | sha256sum)" ] ||
    fail "the certificate does not carry the CSR's key"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["profile"]=="default" and m["csr"] is True, m' \
    "$CLIN/meta.json" || fail "meta.json of the CSR lineage"
cli renew --force --name csr.example.com
expect_rc 1 "renew of a CSR lineage"
grep -q 'issue --csr' "$WORK/cli.err" || fail "renewing a CSR lineage does not say what to do"
ok "issue --csr (--profile default): no privkey.pem, the CSR's key; renew refuses it (1)"

# ---- 3c. preferred chain ------------------------------------------------------------------
# mockca runs with PEBBLE_ALTERNATE_ROOTS=1: every certificate also comes with a chain to
# root 1 (Link rel="alternate"). --preferred-chain names that root's CN; the saved chain
# must then verify against /roots/1 and not against /roots/0.
curl -sf --max-time 10 --cacert "$TLS_ROOT" "$MGMT/roots/1" >"$WORK/root1.pem" ||
    fail "GET $MGMT/roots/1 failed (PEBBLE_ALTERNATE_ROOTS=1)"
ROOT1_CN=$(openssl x509 -noout -subject -nameopt RFC2253 -in "$WORK/root1.pem" |
    sed -n 's/^subject=.*CN=\([^,]*\).*$/\1/p')
[ -n "$ROOT1_CN" ] || fail "no CN in /roots/1"
cli --json issue -d alt.example.com --http "$PORT" --http-address 127.0.0.1 \
    --preferred-chain "$ROOT1_CN"
expect_rc 0 "issue --preferred-chain"
json_is 'j["issuer"]' "$ROOT1_CN" "preferred chain issuer"
ALIN="$STATE/certs/alt.example.com"
openssl verify -CAfile "$WORK/root1.pem" -untrusted "$ALIN/chain.pem" "$ALIN/cert.pem" \
    >"$WORK/verify.out" 2>&1 || fail "the preferred chain does not verify against /roots/1"
if openssl verify -CAfile "$WORK/root.pem" -untrusted "$ALIN/chain.pem" "$ALIN/cert.pem" \
    >/dev/null 2>&1; then
    fail "the preferred chain still leads to /roots/0"
fi
ok "issue --preferred-chain '$ROOT1_CN': the alternate chain, verified against /roots/1"

# ---- 4. issue a wildcard with dns-01 ------------------------------------------------------
# The propagation check finds the zone's NS by asking the resolver, then asks each NS on
# --dns-auth-port: make example.com a zone with an NS whose name (compat mode: every name
# has the default A 127.0.0.1) leads back to the embedded dnsmock.
# certcli listens on IPv4 loopback only: no default AAAA (challtestsrv's ::1) for ns1.
curl -sf --max-time 10 -d '{"ip":""}' "$DNSMGMT/set-default-ipv6" >/dev/null ||
    fail "dnsmock set-default-ipv6 failed"
curl -sf --max-time 10 -d '{"zone":"example.com.","ns":"ns1.example.com."}' \
    "$DNSMGMT/add-zone" >/dev/null || fail "dnsmock add-zone example.com failed"
cli --json issue -d '*.w.example.com' -d w.example.com --dns-mgmt "$DNSMGMT" \
    --dns-resolver "$DNS_ADDR" --dns-auth-port "$DNS_PORT" --dns-timeout 30
expect_rc 0 "issue (dns-01 wildcard)"
json_is 'j["lineage"]' _wildcard.w.example.com "wildcard lineage name"
json_is 'j["challenge"]' dns-01 "wildcard challenge"
WLIN="$STATE/certs/_wildcard.w.example.com"
check_lineage "$WLIN" '*.w.example.com' w.example.com
ok "issue dns-01 wildcard via the dnsmock management API, propagation checked at $DNS_ADDR"

# ---- 5. renew ---------------------------------------------------------------------------
SERIAL1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["serial"])' "$LIN/meta.json")
cli --json renew --name h.example.com
expect_rc 3 "renew of a fresh certificate"
json_is 'j["result"]' not-due "renew --json result"
json_is 'j["lineages"][0]["action"]' not-due "renew lineage action"
if [ "$ARI" = yes ]; then
    python3 - "$LIN/meta.json" <<'EOF' || fail "meta.json has no ARI state after renew"
import json, sys
a = json.load(open(sys.argv[1]))["ari"]
assert a["start"] and a["end"] and a["next_check"], a
EOF
fi
cli renew
expect_rc 3 "renew of every lineage, none due"
cli --json renew --dry-run --force --name h.example.com
expect_rc 0 "renew --dry-run --force"
json_is 'j["result"]' would-renew "renew --dry-run result"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["serial"])' "$LIN/meta.json")" = \
    "$SERIAL1" ] || fail "--dry-run renewed"
: >"$MARK"
# No solver flags: the lineage's own (http-01 on $PORT) and deploy hook from meta.json.
cli --json renew --force --name h.example.com
expect_rc 0 "renew --force"
json_is 'j["result"]' renewed "renew --force result"
python3 - "$LIN/meta.json" "$SERIAL1" "$ARI" <<'EOF' || fail "meta.json after renew --force"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["serial"] != sys.argv[2], "serial unchanged"
assert m["key_type"] == "rsa2048", m["key_type"]
if sys.argv[3] == "yes":
    assert m.get("replaced"), "no replaces sent"
EOF
check_lineage "$LIN" h.example.com www.h.example.com
grep -q '^h.example.com|' "$MARK" || fail "the deploy hook did not run on renewal"
ok "renew: 3 when not due, --dry-run changes nothing, --force renews (new serial, replaces, hook)"

# A deploy hook that outlives --hook-timeout is killed (with its children): exit 1, and
# the renewed certificate is saved all the same.
TSER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["serial"])' \
    "$STATE/certs/t.example.com/meta.json")
SECONDS=0
cli renew --force --name t.example.com --deploy-hook "sleep 60; touch $WORK/late.marker" \
    --hook-timeout 1
expect_rc 1 "renew with a deploy hook that runs over --hook-timeout"
[ "$SECONDS" -lt 45 ] || fail "the hung deploy hook was not killed at its timeout"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["serial"])' \
    "$STATE/certs/t.example.com/meta.json")" != "$TSER" ] || fail "the renewal was not saved"
grep -q 'deploy hook' "$WORK/cli.err" || fail "the hook failure is not reported"
ok "a deploy hook over --hook-timeout is killed: exit 1, the renewed certificate kept"

# ARI moves renewal earlier: a suggested window that has begun (set through Pebble's
# /set-renewal-info/) makes the fresh certificate due. The Retry-After from the last ARI
# answer is honoured (exit 3 without asking) until --ari-now asks again.
if [ "$ARI" = yes ]; then
    SERIAL2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["serial"])' "$LIN/meta.json")
    python3 - "$LIN/cert.pem" >"$WORK/ari.json" <<'EOF'
import datetime, json, sys
now = datetime.datetime.now(datetime.timezone.utc)
f = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
win = {"suggestedWindow": {"start": f(now - datetime.timedelta(hours=2)),
                           "end": f(now - datetime.timedelta(hours=1))}}
print(json.dumps({"Certificate": open(sys.argv[1]).read(), "ARIResponse": json.dumps(win)}))
EOF
    curl -sf --max-time 10 --cacert "$TLS_ROOT" --data-binary @"$WORK/ari.json" \
        "$MGMT/set-renewal-info/" >/dev/null || fail "POST /set-renewal-info/ failed"
    cli --json renew --name h.example.com
    expect_rc 3 "renew before the stored ARI Retry-After has passed"
    cli --json renew --name h.example.com --ari-now
    expect_rc 0 "renew --ari-now with an ARI window that has begun"
    json_is 'j["lineages"][0]["reason"]' ari "renew reason"
    json_is 'bool(j["lineages"][0]["new"]["replaced"])' yes "ARI renewal sends replaces"
    [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["serial"])' "$LIN/meta.json")" != \
        "$SERIAL2" ] || fail "the ARI renewal did not change the certificate"
    ok "renew with ARI: Retry-After honoured (3), then --ari-now renews in the window (0)"
fi

# ---- 6. revoke --------------------------------------------------------------------------
HEX=$(openssl x509 -noout -serial -in "$LIN/cert.pem" | cut -d= -f2)
cli --json revoke --name h.example.com --reason keyCompromise
expect_rc 0 "revoke by account"
json_is 'j["result"]' revoked "revoke --json result"
json_is 'j["signed_by"]' account "revoke signer"
curl -sf --max-time 10 --cacert "$TLS_ROOT" "$MGMT/cert-status-by-serial/$HEX" \
    >"$WORK/status.json" || fail "GET /cert-status-by-serial/$HEX failed"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["Status"].lower()=="revoked", s' \
    "$WORK/status.json" || fail "the management API does not say revoked: $(cat "$WORK/status.json")"
cli revoke --cert "$LIN/cert.pem"
expect_rc 3 "revoke of a revoked certificate"
cli --json revoke --cert "$WLIN/cert.pem" --cert-key "$WLIN/privkey.pem" --reason 4
expect_rc 0 "revoke by certificate key"
json_is 'j["signed_by"]' certificate-key "revoke by certificate key signer"
WHEX=$(openssl x509 -noout -serial -in "$WLIN/cert.pem" | cut -d= -f2)
curl -sf --max-time 10 --cacert "$TLS_ROOT" "$MGMT/cert-status-by-serial/$WHEX" \
    >"$WORK/status.json" || fail "GET /cert-status-by-serial/$WHEX failed"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["Status"].lower()=="revoked", s' \
    "$WORK/status.json" || fail "not revoked by certificate key: $(cat "$WORK/status.json")"
ok "revoke: by account (0, then 3), by certificate key; /cert-status-by-serial says revoked"

# ---- 6b. a challenge the CA cannot validate ---------------------------------------------
# A dns-01 hook that publishes nothing, no propagation check: the authorization becomes
# invalid, and certcli reports the challenge's own error document.
cli --json issue -d nothing.example.com --dns-hook /bin/true --no-propagation-check \
    --poll-timeout 60
expect_rc 1 "issue with a challenge that cannot validate"
json_is 'j["result"]' failed "failed challenge: result"
json_is 'j["problem"]["type"].startswith("urn:ietf:params:acme:error:")' yes \
    "failed challenge: problem type in --json"
grep -q 'problem: urn:ietf:params:acme:error:' "$WORK/cli.err" ||
    fail "the failed challenge's problem is not on stderr: $(cat "$WORK/cli.err")"
[ ! -e "$STATE/certs/nothing.example.com" ] || fail "a failed issue left a lineage behind"
ok "a challenge that fails: exit 1 with $(jq_py 'j["problem"]["type"]')"

# ---- 7. deactivate ----------------------------------------------------------------------
cli --json account deactivate
expect_rc 0 "account deactivate"
json_is 'j["result"]' deactivated "deactivate result"
cli --json issue -d after.example.com --http "$PORT" --http-address 127.0.0.1
expect_rc 1 "issue with a deactivated account"
json_is 'j["result"]' failed "issue after deactivate: result"
grep -q 'urn:ietf:params:acme:error:' "$WORK/cli.err" ||
    fail "the failure does not name the ACME problem type: $(cat "$WORK/cli.err")"
json_is 'j["problem"]["type"].startswith("urn:ietf:params:acme:error:")' yes \
    "issue after deactivate: problem type in --json"
ok "account deactivate; then issue exits 1 with $(jq_py 'j["problem"]["type"]')"

# ---- 8. External Account Binding --------------------------------------------------------
# A second mockca that requires EAB, with one MAC key.
EAB_KID=kid-certcli
EAB_HMAC=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
WRONG_HMAC=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
cat >"$WORK/eab.json" <<EOF
{"pebble": {
  "listenAddress": "127.0.0.1:0",
  "managementListenAddress": "127.0.0.1:0",
  "httpPort": $PORT,
  "tlsPort": $PORT,
  "externalAccountBindingRequired": true,
  "externalAccountMACKeys": {"$EAB_KID": "$EAB_HMAC"}
}}
EOF
# start_mockca sets DIR_URL and TLS_ROOT to the second CA's from here on.
PEBBLE_VA_NOSLEEP=1 CA_TAG=ca2 start_mockca "$CA_BIN" "$WORK/eab.json" ||
    fail "the EAB mockca did not start"
STATE="$WORK/state-eab"
cli --json directory
expect_rc 0 "directory of the EAB CA"
json_is 'j["directory"]["meta"]["externalAccountRequired"]' yes "EAB required in the directory"
cli account register --agree-tos --email eab@example.com
expect_rc 2 "register without EAB where the CA requires it"
cli --json account register --agree-tos --eab-kid "$EAB_KID" --eab-hmac "$WRONG_HMAC"
expect_rc 1 "register with a wrong EAB HMAC"
json_is 'j["problem"]["type"].startswith("urn:ietf:params:acme:error:")' yes \
    "wrong EAB HMAC: problem type"
EAB_PROBLEM=$(jq_py 'j["problem"]["type"]')
[ -z "$(find "$STATE" -name account.key 2>/dev/null)" ] || fail "a refused account was saved"
cli --json account register --agree-tos --eab-kid "$EAB_KID" --eab-hmac "$EAB_HMAC" \
    --eab-alg HS256 --key-type rsa2048
expect_rc 0 "register with the right EAB HMAC"
json_is 'j["result"]' registered "EAB register result"
json_is 'j["key_type"]' rsa2048 "EAB account key type"
ok "EAB: refused without it (2) and with a wrong HMAC (1, $EAB_PROBLEM), registered with the right one"

echo "PASS certcli_mockca.sh"
exit 0
