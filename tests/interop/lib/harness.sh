# lib/harness.sh: process plumbing for interop scripts that start the mockca binary.
# Sourced, not run. The caller sets WORK (a temp dir), PIDS=() and defines fail MESSAGE.
# It gets: skip_banner, need_tools, need_built, stop PID, stop_all (for an EXIT trap),
# wait_line, start_mockca and start_pebble. Safe under set -euo pipefail.

# skip_banner TOOL SCRIPT [INSTALLS]: the loud banner of a skipped script on stderr, so a
# skip (exit 77) cannot pass unnoticed in a CI log. INSTALLS says what installs TOOL.
skip_banner() {
    echo "################################################################" >&2
    echo "SKIP $2: '$1' is not installed (${3:-ci/install-deps.sh}); $2 did NOT run" >&2
    echo "################################################################" >&2
}

# need_tools SCRIPT INSTALLS TOOL...: exits 77 with skip_banner unless every TOOL is on PATH.
need_tools() {
    local script=$1 installs=$2 tool
    shift 2
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            skip_banner "$tool" "$script" "$installs"
            exit 77
        fi
    done
}

# need_built FILE...: exits 1 unless every FILE is an executable (a binary of this build).
need_built() {
    local b
    for b in "$@"; do
        [ -x "$b" ] || { echo "FAIL: $b is not built" >&2; exit 1; }
    done
}

# stop PID: TERM, a bounded wait (5 s), then KILL.
stop() {
    kill "$1" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# stop_all: stops every PID in PIDS and removes WORK (unless KEEP_WORK=1).
stop_all() {
    local p
    for p in "${PIDS[@]}"; do
        stop "$p"
    done
    if [ "${KEEP_WORK:-0}" = 1 ]; then
        echo "kept $WORK" >&2
        return 0
    fi
    rm -rf "$WORK"
}

# wait_line FILE PID SED-EXPR WHAT: the first match of SED-EXPR in FILE, waiting up to
# 10 s while PID lives.
wait_line() {
    local v=""
    for _ in $(seq 1 100); do
        v=$(sed -n "$3" "$1" | head -n 1)
        [ -n "$v" ] && break
        kill -0 "$2" 2>/dev/null || fail "$4 exited at start"
        sleep 0.1
    done
    [ -n "$v" ] || fail "$4 did not print what was expected ($3) within 10 s"
    printf '%s\n' "$v"
}

# mockca_line NAME FILE: the value of the first "NAME value" line of FILE (mockca's
# start-up output), empty when there is none.
mockca_line() {
    sed -n "s/^$1 \\(.*\\)\$/\\1/p" "$2" | head -n 1
}

# start_mockca BIN CONFIG [ARGS...]: starts BIN -config CONFIG with its DNS and DNS
# management on kernel-picked ports, state in $WORK/$CA_TAG, output in $WORK/$CA_TAG.out and
# $WORK/$CA_TAG.err (CA_TAG defaults to ca: set it for a second CA), and waits up to 10 s
# for its start-up lines. Sets CA_PID (also added to PIDS), DIR_URL, CC_URL, CC_API_KEY,
# MGMT, DNS_ADDR, DNSMGMT, TLS_ROOT, ISSUING_ROOT; those mockca does not print (the
# management API switched off, no API key) are empty. The environment passes through
# (PEBBLE_* etc.). Returns 1 when mockca exits or prints no directory and TLS root.
start_mockca() {
    local bin=$1 config=$2 tag=${CA_TAG:-ca}
    local out="$WORK/$tag.out"
    shift 2
    "$bin" -config "$config" --state-dir "$WORK/$tag" --dns 127.0.0.1:0 \
        --dns-management 127.0.0.1:0 "$@" >"$out" 2>"$WORK/$tag.err" &
    CA_PID=$!
    PIDS+=("$CA_PID")
    # fault-seed is the last start-up line, and mockca flushes them all with it.
    wait_line "$out" "$CA_PID" 's/^\(fault-seed\) .*$/\1/p' mockca >/dev/null || return 1
    DIR_URL=$(mockca_line directory "$out")
    CC_URL=$(mockca_line certcentral "$out")
    CC_API_KEY=$(mockca_line certcentral-api-key "$out")
    MGMT=$(mockca_line management "$out")
    DNS_ADDR=$(mockca_line dns "$out")
    DNSMGMT=$(mockca_line dns-management "$out")
    TLS_ROOT=$(mockca_line tls-root "$out")
    ISSUING_ROOT=$(mockca_line issuing-root "$out")
    if [ -z "$DIR_URL" ] || [ -z "$TLS_ROOT" ]; then
        echo "mockca ($tag) printed no directory or tls-root line" >&2
        return 1
    fi
}

# ---- Debian's pebble and pebble-challtestsrv ----------------------------------------------
# Found by running the Debian binaries: pebble ships no TLS certificate for its listener, so
# one for 127.0.0.1 is made here; challtestsrv answers A 127.0.0.1 for every name, its
# AAAA ::1 is switched off (Pebble would dial [::1] where no responder listens), and its own
# http-01/https-01/tls-alpn-01 responders are off so that the client under test answers.
# The caller sources lib/mockca_checks.sh (free_port) too.

# start_challtestsrv: challtestsrv's DNS on DNS_PORT and management API on CTS_MGMT (both
# set), waited for; and the listener certificate $WORK/tls.pem with key $WORK/tls-key.pem.
start_challtestsrv() {
    local pid
    DNS_PORT=$(free_port)
    CTS_MGMT=$(free_port)
    pebble-challtestsrv -http01 "" -https01 "" -tlsalpn01 "" -defaultIPv6 "" \
        -dns01 "127.0.0.1:$DNS_PORT" -management "127.0.0.1:$CTS_MGMT" \
        >"$WORK/challtestsrv.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$WORK/tls-key.pem" -out "$WORK/tls.pem" 2>/dev/null ||
        fail "openssl req (Pebble's TLS certificate) failed"
    for _ in $(seq 1 100); do
        curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$CTS_MGMT/" && return 0
        kill -0 "$pid" 2>/dev/null || fail "pebble-challtestsrv exited"
        sleep 0.05
    done
    fail "pebble-challtestsrv's management API did not answer within 5 s"
}

# start_pebble NAME EAB(true|false): writes $WORK/NAME.json and starts Pebble on free ports
# (log $WORK/NAME.log), resolving through start_challtestsrv's DNS, with the EAB MAC key
# EAB_KID=EAB_HMAC when EAB_KID is set, PEBBLE_VA_NOSLEEP=1 and PEBBLE_WFE_NONCEREJECT=0
# (Pebble refuses 5% of good nonces by default, which would fail runs by chance). Waits for
# its directory and saves its /roots/0 as $WORK/NAME-root.pem. Sets ${NAME}_DIR,
# ${NAME}_MGMT, ${NAME}_HTTP, ${NAME}_TLS (its http-01 and tls-alpn-01 ports).
start_pebble() {
    local name=$1 eab=$2 port mgmt http tls pid keys=""
    port=$(free_port)
    mgmt=$(free_port)
    http=$(free_port)
    tls=$(free_port)
    if [ -n "${EAB_KID:-}" ]; then
        keys=", \"externalAccountMACKeys\": {\"$EAB_KID\": \"$EAB_HMAC\"}"
    fi
    printf '%s\n' \
        "{\"pebble\": {\"listenAddress\": \"127.0.0.1:$port\", \"managementListenAddress\": \"127.0.0.1:$mgmt\"," \
        "  \"certificate\": \"$WORK/tls.pem\", \"privateKey\": \"$WORK/tls-key.pem\"," \
        "  \"httpPort\": $http, \"tlsPort\": $tls, \"ocspResponderURL\": \"\"," \
        "  \"externalAccountBindingRequired\": $eab$keys}}" >"$WORK/$name.json"
    PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
        pebble -config "$WORK/$name.json" -dnsserver "127.0.0.1:$DNS_PORT" >"$WORK/$name.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 200); do
        curl -sf --max-time 2 --cacert "$WORK/tls.pem" "https://127.0.0.1:$port/dir" >/dev/null 2>&1 &&
            break
        kill -0 "$pid" 2>/dev/null || fail "pebble ($name) exited"
        sleep 0.05
    done
    curl -sf --max-time 5 --cacert "$WORK/tls.pem" "https://127.0.0.1:$mgmt/roots/0" \
        >"$WORK/$name-root.pem" || fail "pebble ($name): no /roots/0"
    printf -v "${name}_DIR" '%s' "https://127.0.0.1:$port/dir"
    printf -v "${name}_MGMT" '%s' "https://127.0.0.1:$mgmt"
    printf -v "${name}_HTTP" '%s' "$http"
    printf -v "${name}_TLS" '%s' "$tls"
}
