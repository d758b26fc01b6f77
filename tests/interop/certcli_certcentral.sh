#!/usr/bin/env bash
# certcli_certcentral.sh: `certcli cc` (the CertCentral Services API v2 client) end to end
# against the mockca binary, both as separate processes. mockca starts on kernel-picked
# ports with its embedded dnsmock and two API keys (an administrator and a user). Then:
#   - usage errors exit 2; a bad API key exits 1 naming invalid_api_key;
#   - authkey create (--json parsed), instant-dv through --dns-mgmt (the chain saved and
#     verified with openssl against mockca's issuing root);
#   - org create, an OV order placed with dns-txt-token, `dcv place --check` through the
#     DNS management API, organization validation advanced with curl on mockca's
#     management API, `watch` until issued, `download` in pem_all (openssl verify) and a
#     zip format (python3 zipfile lists the entries);
#   - `revoke` by the user key (a pending request), then `request approve` by the
#     administrator, and the order shows revoked.
# Every --json output is parsed with python3.
# Env: MC_BUILD_DIR (ctest sets it). Exit 0 pass, 1 fail, 77 skip (a tool is missing).
set -u

BUILD=${MC_BUILD_DIR:-}
if [ -z "$BUILD" ]; then
    echo "certcli_certcentral.sh: MC_BUILD_DIR is not set" >&2
    exit 1
fi
CA_BIN="$BUILD/mockca/mockca"
CLI_BIN="$BUILD/client/certcli"
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/harness.sh
. "$HERE/lib/harness.sh" # need_tools, need_built, stop, stop_all, wait_line, start_mockca
need_tools certcli_certcentral.sh "ci/install-deps.sh installs openssl, curl, python3, coreutils" \
    openssl curl python3 timeout
need_built "$CA_BIN" "$CLI_BIN"

WORK=$(mktemp -d)
PIDS=()
trap stop_all EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "--- last certcli stdout/stderr ---" >&2
    tail -n 20 "$WORK/cli.out" >&2 2>/dev/null
    tail -n 30 "$WORK/cli.err" >&2 2>/dev/null
    echo "--- mockca stderr (tail) ---" >&2
    tail -n 30 "$WORK/ca.err" >&2 2>/dev/null
    exit 1
}
ok() { echo "ok: $*"; }

ADMIN=CCADMINKEY0001
USER=CCUSERKEY00001
cat >"$WORK/pebble.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:0", "managementListenAddress": "127.0.0.1:0",
            "httpPort": 5002, "tlsPort": 5001},
 "certcentral": {"apiKeys": [{"key": "$ADMIN", "role": "administrator", "accountId": 1},
                             {"key": "$USER", "role": "user", "accountId": 1}],
                 "dcvTimeoutMs": 2000}}
EOF
PEBBLE_VA_NOSLEEP=1 start_mockca "$CA_BIN" "$WORK/pebble.json" || fail "mockca did not start"
[ -n "$CC_URL" ] && [ -n "$MGMT" ] && [ -n "$DNSMGMT" ] ||
    fail "mockca did not print its certcentral, management and dns-management lines"
echo "mockca pid $CA_PID: certcentral $CC_URL, management $MGMT, dns management $DNSMGMT"
curl -sf --max-time 10 --cacert "$TLS_ROOT" "$MGMT/roots/0" >"$WORK/root.pem" ||
    fail "GET $MGMT/roots/0 failed"

# cc KEY ARGS...: certcli cc with KEY; stdout in cli.out, stderr in cli.err; sets RC.
cc() {
    local key=$1
    shift
    RC=0
    timeout 120 "$CLI_BIN" --ca-bundle "$TLS_ROOT" "${GLOBAL[@]}" cc --api-key "$key" \
        --base-url "$CC_URL" "$@" >"$WORK/cli.out" 2>"$WORK/cli.err" || RC=$?
}
GLOBAL=()
expect_rc() { [ "$RC" = "$1" ] || fail "$2: exit $RC, expected $1"; }
jq_py() {
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$WORK/cli.out" "$1" 2>>"$WORK/cli.err" || fail "--json output is not the expected JSON: $(cat "$WORK/cli.out")"
}

# ---- usage and a bad key -----------------------------------------------------------------
for args in "" "frobnicate" "info" "org" "org create --name x" "domain create x.example" \
    "download --cert 1" "dcv place 1" "request list a b c"; do
    # shellcheck disable=SC2086
    cc "$ADMIN" $args
    expect_rc 2 "cc $args (usage)"
done
ok "usage errors exit 2"
GLOBAL=(--json)
cc WRONGKEY list
expect_rc 1 "a bad API key"
grep -q invalid_api_key "$WORK/cli.err" || fail "a bad API key: stderr does not name invalid_api_key"
[ "$(jq_py 'j["errors"][0]["code"]')" = invalid_api_key ] || fail "--json errors[0].code"
ok "a bad API key exits 1 naming invalid_api_key"

# ---- AuthKey and instant DV --------------------------------------------------------------
cc "$ADMIN" authkey create
expect_rc 0 "authkey create"
AK=$(jq_py 'j["auth_key"]') || exit 1
[ "${#AK}" -ge 16 ] || fail "authkey create: auth_key '$AK'"
ok "authkey create"
cc "$ADMIN" instant-dv --cn instant.cc.example --new-key "$WORK/instant.key" \
    --out "$WORK/instant.pem" --dns-mgmt "$DNSMGMT" --no-propagation-check
expect_rc 0 "instant-dv"
[ "$(grep -c 'BEGIN CERTIFICATE' "$WORK/instant.pem")" = 3 ] || fail "instant-dv: chain of 3"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/instant.pem" "$WORK/instant.pem" \
    >/dev/null 2>&1 || fail "instant-dv: the chain does not verify against /roots/0"
ok "instant-dv through --dns-mgmt, chain verified"

# ---- OV order with dns-txt-token ---------------------------------------------------------
cc "$ADMIN" org create --name "CC Interop llc" --address "1 Main St" --city Lehi --country us
expect_rc 0 "org create"
ORG=$(jq_py 'j["id"]') || exit 1
cc "$ADMIN" org validation "$ORG" --type ov
expect_rc 0 "org validation submit"
cc "$ADMIN" order ssl_basic --cn ov.cc.example --new-key "$WORK/ov.key" --org-id "$ORG" \
    --dcv-method dns-txt-token --skip-approval --years 1
expect_rc 0 "order ssl_basic"
ORDER=$(jq_py 'j["order_id"]') || exit 1
ok "OV order $ORDER placed"
cc "$ADMIN" dcv place "$ORDER" --dns-mgmt "$DNSMGMT" --no-propagation-check --check
expect_rc 0 "dcv place --check"
[ "$(jq_py 'j["check"]["dcv_status"]')" = valid ] || fail "dcv place --check: dcv_status"
[ "$(jq_py 'j["check"]["order_status"]')" = pending ] || fail "check: the org is not validated yet"
ok "dcv place --check"
curl -sf --max-time 10 --cacert "$TLS_ROOT" -H 'Content-Type: application/json' \
    -d '{"type":"ov","status":"active"}' "$MGMT/cc/organization/$ORG/validation" >/dev/null ||
    fail "management API: organization validation"
cc "$USER" watch "$ORDER" --interval 200 --timeout 30
expect_rc 0 "watch"
ok "organization validated through the management API; watch saw the order issued"
cc "$USER" info "$ORDER"
expect_rc 0 "info"
[ "$(jq_py 'j["status"]')" = issued ] || fail "info: status"
CERT=$(jq_py 'j["certificate"]["id"]') || exit 1
cc "$USER" download --cert "$CERT" --format pem_all --out "$WORK/ov.pem"
expect_rc 0 "download pem_all"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/ov.pem" "$WORK/ov.pem" >/dev/null 2>&1 ||
    fail "download pem_all: does not verify"
cc "$USER" download --order "$ORDER" --format default --out "$WORK/ov.zip"
expect_rc 0 "download default (zip)"
N=$(python3 -c 'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); print(len([n for n in z.namelist() if n.endswith(".crt")]))' "$WORK/ov.zip") ||
    fail "the default download is not a zip"
[ "$N" = 3 ] || fail "the default zip holds $N .crt files, not 3"
ok "download pem_all (verified) and the default zip (3 entries)"

# ---- revoke with approval ----------------------------------------------------------------
cc "$USER" revoke --cert "$CERT" --reason superseded
expect_rc 0 "revoke (user)"
REQ=$(jq_py 'j["request_id"]') || exit 1
cc "$USER" info "$ORDER"
[ "$(jq_py 'j["status"]')" = issued ] || fail "revoke waits for approval"
cc "$USER" request approve "$REQ"
expect_rc 1 "request approve with a user key"
cc "$ADMIN" request approve "$REQ"
expect_rc 0 "request approve"
cc "$USER" info "$ORDER"
[ "$(jq_py 'j["status"]')" = revoked ] || fail "the order is not revoked after the approval"
ok "revoke, then request approve: revoked"
echo "PASS certcli_certcentral.sh"
