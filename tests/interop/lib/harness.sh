# lib/harness.sh: process plumbing for interop scripts that start the mockca binary.
# Sourced, not run. The caller sets WORK (a temp dir), PIDS=() and defines fail MESSAGE.
# It gets: stop PID, stop_all (for an EXIT trap), wait_line, and start_mockca.

# stop PID: TERM, a bounded wait (5 s), then KILL.
stop() {
    kill "$1" 2>/dev/null
    for _ in $(seq 1 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# stop_all: stops every PID in PIDS and removes WORK (unless KEEP_WORK=1).
stop_all() {
    for p in "${PIDS[@]}"; do
        stop "$p"
    done
    [ "${KEEP_WORK:-0}" = 1 ] && echo "kept $WORK" >&2 && return
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

# start_mockca BIN CONFIG [ARGS...]: starts BIN -config CONFIG with its DNS and DNS
# management on kernel-picked ports, output in $WORK/ca.out and $WORK/ca.err, and waits
# for its start-up lines. Sets CA_PID (also added to PIDS), DIR_URL, MGMT, DNS_ADDR,
# DNSMGMT, TLS_ROOT. The environment passes through (PEBBLE_* etc.).
start_mockca() {
    local bin=$1 config=$2
    shift 2
    "$bin" -config "$config" --state-dir "$WORK/ca" --dns 127.0.0.1:0 \
        --dns-management 127.0.0.1:0 "$@" >"$WORK/ca.out" 2>"$WORK/ca.err" &
    CA_PID=$!
    PIDS+=("$CA_PID")
    DIR_URL=$(wait_line "$WORK/ca.out" "$CA_PID" 's/^directory \(https:[^ ]*\)$/\1/p' mockca) ||
        return 1
    MGMT=$(wait_line "$WORK/ca.out" "$CA_PID" 's/^management \(https:[^ ]*\)$/\1/p' mockca) ||
        return 1
    DNS_ADDR=$(wait_line "$WORK/ca.out" "$CA_PID" 's/^dns \(127[^ ]*\)$/\1/p' mockca) || return 1
    DNSMGMT=$(wait_line "$WORK/ca.out" "$CA_PID" 's/^dns-management \(http:[^ ]*\)$/\1/p' \
        mockca) || return 1
    TLS_ROOT=$(wait_line "$WORK/ca.out" "$CA_PID" 's/^tls-root \(.*\)$/\1/p' mockca) || return 1
    wait_line "$WORK/ca.out" "$CA_PID" 's/^\(fault-seed\) .*$/\1/p' mockca >/dev/null
}
