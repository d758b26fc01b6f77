#!/usr/bin/env bash
# mockca_bench.sh: mockca against Debian's Pebble, side by side in one run (issue 3's benchmark).
#
#   bash tests/bench/mockca_bench.sh [-n ISSUANCES] [-s STARTS] [-r ROUNDS] [-a HOURS]
#
# Defaults: -n 200 -s 7 -r 3 -a 25. Env MC_BUILD_DIR picks a build directory (default
# <repo>/build-bench2, configured Release and built here if its mockca binary is missing; a
# Debug build measures -O0 code, so use a Release one).
#
# For each server it reports:
#   - start: milliseconds from exec to the first 200 answer to GET /dir carrying a directory,
#     over STARTS starts (min / median / max). acme_load's "start" mode forks, execs and polls
#     with libcurl (a new connection each try, 1 ms apart) in one process, so the poller's
#     own start-up is not counted. The starts of the two servers alternate.
#   - VmRSS and VmHWM (/proc/PID/status) idle, 1 s after the directory first answers, and
#     VmRSS split into RssAnon (the process's own heap and stacks) and RssFile (mapped
#     shared libraries and binary, largely shared with other processes);
#   - after each of ROUNDS rounds of ISSUANCES issuances by acme_load (the same sequential
#     client, one keep-alive connection, same polling, for both): VmRSS, VmHWM and the
#     issuance rate. Between rounds mockca's clock is advanced HOURS (default 25 h: past its
#     default 24 h retention of finished orders and certificates; valid authorizations live
#     30 days first, so -a 745 lets them expire and pass retention too) and POST /sweep runs
#     housekeeping at once, so rounds 2.. show whether its memory stops growing once finished
#     objects are dropped; the sweep's answer (what was dropped, what is left) is printed. Pebble has no such control
#     (it keeps everything), it just gets the same rounds. Without /sweep on mockca's
#     management API the retention step is skipped and the output says so.
# then the ratios mockca/Pebble for every figure.
#
# Both servers run with PEBBLE_VA_NOSLEEP=1, PEBBLE_WFE_NONCEREJECT=0 and
# PEBBLE_VA_ALWAYS_VALID=1: challenges are not really validated by either (acme_load serves
# no key authorization), which keeps the comparison about the CA, not the client's responder.
# mockca runs in its default shape (its embedded dnsmock included, TLS certificate generated at
# start); Pebble with a P-256 certificate made here for 127.0.0.1 and its default (system) DNS.
# Ports are picked free by the kernel (python3 binding port 0). Every process started here is
# stopped by PID on exit; every wait is bounded.
#
# Needs: pebble, curl, python3, cc, openssl, libcurl/OpenSSL/cJSON headers, cmake. Not a ctest
# test.
set -euo pipefail

N=200
STARTS=7
ROUNDS=3
ADVANCE_H=25
while getopts "n:s:r:a:h" opt; do
    case "$opt" in
    n) N=$OPTARG ;;
    s) STARTS=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    a) ADVANCE_H=$OPTARG ;;
    *) sed -n '2,8p' "$0"; exit 2 ;;
    esac
done
for v in "$N" "$STARTS" "$ROUNDS" "$ADVANCE_H"; do
    case "$v" in
    '' | *[!0-9]*) echo "mockca_bench: options take positive integers" >&2; exit 2 ;;
    esac
done
if [ "$N" -lt 1 ] || [ "$STARTS" -lt 1 ] || [ "$ROUNDS" -lt 1 ]; then
    echo "mockca_bench: options take positive integers" >&2
    exit 2
fi

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${MC_BUILD_DIR:-$SRC/build-bench2}
MOCKCA=$BUILD/mockca/mockca

for tool in pebble curl python3 cc openssl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "mockca_bench: $tool is not installed" >&2
        exit 1
    fi
done
if [ ! -x "$MOCKCA" ]; then
    echo "mockca_bench: building mockca (Release) in $BUILD" >&2
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" --target mockca -j2 >/dev/null
fi
if grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    BUILD_TYPE=Release
else
    BUILD_TYPE="NOT Release ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true))"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mockca_bench.XXXXXX")
PIDS=()
stop() { # stop PID: TERM, a bounded wait, then KILL
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 1 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    for pid in "${PIDS[@]}"; do
        stop "$pid"
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_VA_ALWAYS_VALID=1

cc -O2 -o "$WORK/acme_load" "$SRC/tests/bench/acme_load.c" -lcurl -lcrypto -lcjson
LOAD=$WORK/acme_load

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$WORK/pebble-key.pem" -out "$WORK/pebble-cert.pem" 2>/dev/null

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# mockca_conf FILE PORT: a Pebble JSON config for mockca on ACME port PORT (management port
# picked by the kernel, printed by mockca).
mockca_conf() {
    cat >"$1" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$2", "managementListenAddress": "127.0.0.1:0",
  "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF
}
# pebble_conf FILE PORT MGMTPORT
pebble_conf() {
    cat >"$1" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$2", "managementListenAddress": "127.0.0.1:$3",
  "certificate": "$WORK/pebble-cert.pem", "privateKey": "$WORK/pebble-key.pem",
  "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF
}
mockca_args() { # mockca_args CONF STATEDIR
    printf '%s\n' "$MOCKCA" -config "$1" --state-dir "$2" --dns 127.0.0.1:0 \
        --dns-management 127.0.0.1:0
}

# --- start-up times -----------------------------------------------------------------------
echo "mockca_bench: $STARTS starts each (alternating), then $ROUNDS round(s) of $N issuances" >&2
: >"$WORK/start-mockca" && : >"$WORK/start-pebble"
for i in $(seq 1 "$STARTS"); do
    p=$(free_port)
    mockca_conf "$WORK/m$i.json" "$p"
    mapfile -t margs < <(mockca_args "$WORK/m$i.json" "$WORK/ms$i")
    "$LOAD" start "https://127.0.0.1:$p/dir" 10000 -- "${margs[@]}" | awk '{print $1}' \
        >>"$WORK/start-mockca"
    p=$(free_port)
    q=$(free_port)
    pebble_conf "$WORK/p$i.json" "$p" "$q"
    "$LOAD" start "https://127.0.0.1:$p/dir" 10000 -- pebble -config "$WORK/p$i.json" |
        awk '{print $1}' >>"$WORK/start-pebble"
done
for s in mockca pebble; do
    [ "$(wc -l <"$WORK/start-$s")" -eq "$STARTS" ] ||
        { echo "mockca_bench: some $s starts failed" >&2; exit 1; }
done
# stats FILE: min median max
stats() {
    sort -n "$1" | awk '{v[NR]=$1} END {m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2;
        printf "%.1f %.1f %.1f\n", v[1], m, v[NR]}'
}
read -r M_SMIN M_SMED M_SMAX < <(stats "$WORK/start-mockca")
read -r P_SMIN P_SMED P_SMAX < <(stats "$WORK/start-pebble")

# --- long-running pair ----------------------------------------------------------------------
# wait_dir URL CAFILE PID NAME: until GET URL answers 200 (at most 10 s).
wait_dir() {
    for _ in $(seq 1 200); do
        if curl -sf --max-time 2 --cacert "$2" "$1" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$3" 2>/dev/null || { echo "mockca_bench: $4 exited" >&2; exit 1; }
        sleep 0.05
    done
    echo "mockca_bench: $4 did not answer $1 within 10 s" >&2
    exit 1
}
# mem PID: "VmRSS_kB VmHWM_kB RssAnon_kB RssFile_kB"
mem() {
    awk '/^VmRSS:/ {r=$2} /^VmHWM:/ {h=$2} /^RssAnon:/ {a=$2} /^RssFile:/ {f=$2}
        END {print r, h, a, f}' "/proc/$1/status"
}

MP=$(free_port)
mockca_conf "$WORK/mockca.json" "$MP"
mapfile -t margs < <(mockca_args "$WORK/mockca.json" "$WORK/mstate")
"${margs[@]}" >"$WORK/mockca.out" 2>"$WORK/mockca.err" &
M_PID=$!
PIDS+=("$M_PID")
PP=$(free_port)
PQ=$(free_port)
pebble_conf "$WORK/pebble.json" "$PP" "$PQ"
pebble -config "$WORK/pebble.json" >"$WORK/pebble.out" 2>&1 &
P_PID=$!
PIDS+=("$P_PID")

M_DIR=https://127.0.0.1:$MP/dir
P_DIR=https://127.0.0.1:$PP/dir
M_CA=$WORK/mstate/tls-root.pem
P_CA=$WORK/pebble-cert.pem
wait_dir "$M_DIR" "$M_CA" "$M_PID" mockca
wait_dir "$P_DIR" "$P_CA" "$P_PID" pebble
M_MGMT=$(sed -n 's/^management \(https:[^ ]*\)$/\1/p' "$WORK/mockca.out" | head -n 1)
[ -n "$M_MGMT" ] || { echo "mockca_bench: mockca printed no management URL" >&2; exit 1; }
sleep 1
read -r M_IRSS M_IHWM M_IANON M_IFILE < <(mem "$M_PID")
read -r P_IRSS P_IHWM P_IANON P_IFILE < <(mem "$P_PID")

# Is there a POST /sweep? (404 or 405: not yet.)
SWEEP=no
code=$(curl -s -o "$WORK/sweep0.json" -w '%{http_code}' --max-time 10 --cacert "$M_CA" \
    -X POST "$M_MGMT/sweep" || true)
[ "$code" = 200 ] && SWEEP=yes

# run_round SERVER DIR CAFILE PID TAG -> "rate rss hwm anon file ok fail"
run_round() {
    local out f
    out=$(timeout 900 "$LOAD" issue "$2" "$N" "$3" "$5" 2>>"$WORK/load-$1.err") ||
        { echo "mockca_bench: acme_load against $1 failed:" >&2; tail -n 5 "$WORK/load-$1.err" >&2; exit 1; }
    echo "$1 round: $out" >&2
    read -r -a f <<<"$out" # ok K fail F seconds S rate R requests Q
    echo "${f[7]} $(mem "$4") ${f[1]} ${f[3]}"
}

declare -a M_R P_R M_SW
for r in $(seq 1 "$ROUNDS"); do
    if [ "$r" -gt 1 ] && [ "$SWEEP" = yes ]; then
        curl -sf --max-time 10 --cacert "$M_CA" -d "{\"advance_ms\": $((ADVANCE_H * 3600000))}" \
            "$M_MGMT/clock" >/dev/null || { echo "mockca_bench: POST /clock failed" >&2; exit 1; }
        curl -sf --max-time 30 --cacert "$M_CA" -X POST "$M_MGMT/sweep" >"$WORK/sweep$r.json" ||
            { echo "mockca_bench: POST /sweep failed" >&2; exit 1; }
        sleep 0.5
        M_SW[r]="$(mem "$M_PID") $(tr -d '\n' <"$WORK/sweep$r.json")"
    fi
    M_R[r]=$(run_round mockca "$M_DIR" "$M_CA" "$M_PID" "m$r")
    P_R[r]=$(run_round pebble "$P_DIR" "$P_CA" "$P_PID" "p$r")
done

# --- report -------------------------------------------------------------------------------
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
row() { # row LABEL MOCKCA PEBBLE
    awk -v l="$1" -v a="$2" -v b="$3" 'BEGIN {
        if (b + 0 > 0) printf "%-40s %10s %10s %8.2f\n", l, a, b, a / b;
        else printf "%-40s %10s %10s %8s\n", l, a, b, "-" }'
}
echo
echo "mockca $MOCKCA (build: $BUILD_TYPE) vs $(command -v pebble) ($(dpkg-query -W -f='${Version}' pebble 2>/dev/null || echo '?'))"
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); client: acme_load, sequential, one connection, ES256 account, P-256 cert keys"
echo "both servers: PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_VA_ALWAYS_VALID=1 (challenges not really validated by either)"
echo
printf "%-40s %10s %10s %8s\n" figure mockca pebble ratio
row "start to directory, min (ms)" "$M_SMIN" "$P_SMIN"
row "start to directory, median of $STARTS (ms)" "$M_SMED" "$P_SMED"
row "start to directory, max (ms)" "$M_SMAX" "$P_SMAX"
row "idle VmRSS (MiB)" "$(mib "$M_IRSS")" "$(mib "$P_IRSS")"
row "idle VmHWM (MiB)" "$(mib "$M_IHWM")" "$(mib "$P_IHWM")"
row "idle RssAnon (MiB)" "$(mib "$M_IANON")" "$(mib "$P_IANON")"
row "idle RssFile (MiB)" "$(mib "$M_IFILE")" "$(mib "$P_IFILE")"
for r in $(seq 1 "$ROUNDS"); do
    read -r mrate mrss mhwm manon mfile _ mfail <<<"${M_R[$r]}"
    read -r prate prss phwm panon pfile _ pfail <<<"${P_R[$r]}"
    total=$((r * N))
    if [ -n "${M_SW[$r]:-}" ]; then
        read -r srss _ <<<"${M_SW[$r]}"
        row "clock +${ADVANCE_H}h, sweep: VmRSS (MiB)" "$(mib "$srss")" "-"
    fi
    row "after $total issuances: VmRSS (MiB)" "$(mib "$mrss")" "$(mib "$prss")"
    row "after $total issuances: VmHWM (MiB)" "$(mib "$mhwm")" "$(mib "$phwm")"
    if [ "$r" -eq "$ROUNDS" ]; then
        row "after $total issuances: RssAnon (MiB)" "$(mib "$manon")" "$(mib "$panon")"
        row "after $total issuances: RssFile (MiB)" "$(mib "$mfile")" "$(mib "$pfile")"
    fi
    row "round $r: issuances/s" "$mrate" "$prate"
    if [ "$mfail" != 0 ] || [ "$pfail" != 0 ]; then
        echo "  round $r failures: mockca $mfail, pebble $pfail (of $N)"
    fi
done
echo
echo "starts (ms), mockca: $(tr '\n' ' ' <"$WORK/start-mockca")"
echo "starts (ms), pebble: $(tr '\n' ' ' <"$WORK/start-pebble")"
if [ "$SWEEP" = yes ]; then
    for r in $(seq 2 "$ROUNDS"); do
        read -r _ _ _ _ sj <<<"${M_SW[$r]}"
        echo "mockca sweep (clock +${ADVANCE_H}h) before round $r: $sj"
    done
    if [ "$ADVANCE_H" -lt 745 ]; then
        echo "  (valid authorizations live 30 days before their retention starts, so with -a" \
            "$ADVANCE_H they and their challenges are kept; -a 745 lets them go too)"
    fi
else
    echo "retention NOT measured: mockca's management API has no POST /sweep (HTTP $code);"
    echo "  rounds 2.. ran without advancing its clock, so they show growth with everything retained"
fi
echo
echo "aims (issue 3): start within 30 ms of exec (mockca median $M_SMED ms;" \
    "Pebble here $P_SMED ms, issue says 240-470, median 328);" \
    "idle under 10 MiB (mockca $(mib "$M_IRSS") MiB; Pebble $(mib "$P_IRSS"), issue says 13.7);" \
    "memory stops growing after retention (see the rounds above)"
