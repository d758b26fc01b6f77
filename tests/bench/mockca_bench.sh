#!/usr/bin/env bash
# mockca_bench.sh: mockca against Debian's Pebble, side by side in one run (issue 3's benchmark).
#
#   bash tests/bench/mockca_bench.sh [-N TOTAL] [-c STEP] [-f FIRST] [-s STARTS] [-w WORKERS]
#                                    [-a HOURS] [-t SECONDS] [-k KEYTYPE]
#
# Defaults: -N 100000 -c TOTAL/10 -f 1000 -s 7 -w 2 -a 745 -t 900 -k ec256. Env
# MC_BUILD_DIR picks a build directory (default <repo>/build-bench2, configured Release and
# built here if its mockca or certcli binary is missing; a Debug build measures -O0 code and
# the report says so).
#
# For each server it reports:
#   - start: milliseconds from exec to the first 200 answer to GET /dir carrying a directory,
#     over STARTS starts (min / median / max). acme_load's "start" mode forks, execs and polls
#     with libcurl (a new connection each try, 1 ms apart) in one process, so the poller's
#     own start-up is not counted. The starts of the two servers alternate.
#   - VmRSS (/proc/PID/status) idle, 1 s after the directory first answers, split into
#     RssAnon (the process's own heap and stacks) and RssFile (binary and shared libraries
#     mapped in, largely shared with other processes);
#   - VmRSS after FIRST issuances and then after every STEP up to TOTAL (cumulative), all
#     made by `certcli bench -w WORKERS` (fresh certificate key per issuance, http-01 really
#     validated against the bench's own responder), with each chunk's rate; VmHWM and the
#     RssAnon/RssFile split at the end.
#   - mockca only: after each of those marks its virtual clock is advanced HOURS (default
#     745 h: valid authorizations live 30 days, then 24 h of retention, like finished orders
#     and certificates) and POST /sweep runs housekeeping at once; VmRSS is taken again, so
#     the growth per STEP after sweeps shows whether its memory stops growing once finished
#     objects pass their retention. The sweep's answer (what was dropped, what is left, the
#     malloc heap in use) is printed. Pebble has no such control and keeps everything: its
#     figures are reported as they are.
# If Pebble dies, stops answering, or a chunk does not complete within -t SECONDS (certcli
# bench -d: no issuance starts after that; in-flight ones are bounded by --poll-timeout),
# the report says so and the run goes on with mockca alone.
#
# Both CAs run with PEBBLE_VA_NOSLEEP=1 and PEBBLE_WFE_NONCEREJECT=0. mockca resolves the
# bench's random names under bench.test through its embedded dnsmock (in its process, so in
# its memory figures), Pebble through a pebble-challtestsrv (DNS only, a separate process,
# not counted). Pebble gets a P-256 TLS certificate for 127.0.0.1 made here (Debian's
# package ships none); mockca makes its own at start. Ports are picked free by the kernel
# (python3 binding port 0). Every process started here is stopped by PID on exit; every wait
# is bounded. 100,000 issuances take about 10-20 minutes on 2 cores, most of it Pebble's.
#
# Needs: pebble, pebble-challtestsrv, curl, python3, jq, cc, openssl, libcurl/OpenSSL/cJSON
# headers, cmake. Not a ctest test: nothing is asserted.
set -euo pipefail

TOTAL=100000
STEP=
FIRST=1000
STARTS=7
WORKERS=2
ADVANCE_H=745
MAXS=900
KEYTYPE=ec256
while getopts "N:c:f:s:w:a:t:k:h" opt; do
    case "$opt" in
    N) TOTAL=$OPTARG ;;
    c) STEP=$OPTARG ;;
    f) FIRST=$OPTARG ;;
    s) STARTS=$OPTARG ;;
    w) WORKERS=$OPTARG ;;
    a) ADVANCE_H=$OPTARG ;;
    t) MAXS=$OPTARG ;;
    k) KEYTYPE=$OPTARG ;;
    *) sed -n '2,10p' "$0"; exit 2 ;;
    esac
done
[ -n "$STEP" ] || STEP=$((TOTAL / 10))
for v in "$TOTAL" "$STEP" "$FIRST" "$STARTS" "$WORKERS" "$ADVANCE_H" "$MAXS"; do
    case "$v" in
    '' | *[!0-9]* | 0) echo "mockca_bench: -N -c -f -s -w -a -t take positive integers" >&2; exit 2 ;;
    esac
done

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${MC_BUILD_DIR:-$SRC/build-bench2}
MOCKCA=$BUILD/mockca/mockca
CERTCLI=$BUILD/client/certcli

for tool in pebble pebble-challtestsrv curl python3 jq cc openssl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "mockca_bench: $tool is not installed" >&2
        exit 1
    fi
done
if [ ! -x "$MOCKCA" ] || [ ! -x "$CERTCLI" ]; then
    echo "mockca_bench: building mockca and certcli (Release) in $BUILD" >&2
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" --target mockca certcli -j2 >/dev/null
fi
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
case "$BUILD_TYPE" in
Release | RelWithDebInfo) ;;
*) BUILD_TYPE="NOT optimized (${BUILD_TYPE:-?})" ;;
esac

# The marks: FIRST, then every STEP up to TOTAL (cumulative issuance counts).
MARKS=()
[ "$FIRST" -lt "$TOTAL" ] && MARKS+=("$FIRST")
for ((m = STEP; m < TOTAL; m += STEP)); do
    [ "$m" -gt "$FIRST" ] && MARKS+=("$m")
done
MARKS+=("$TOTAL")

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
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0

cc -O2 -o "$WORK/acme_load" "$SRC/tests/bench/acme_load.c" -lcurl -lcrypto -lcjson
LOAD=$WORK/acme_load

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$WORK/pebble-key.pem" -out "$WORK/pebble-cert.pem" 2>/dev/null

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# mockca_conf FILE PORT MGMTPORT HTTPPORT: a Pebble JSON config for mockca.
mockca_conf() {
    cat >"$1" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$2", "managementListenAddress": "127.0.0.1:$3",
  "httpPort": $4, "tlsPort": 5001, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF
}
# pebble_conf FILE PORT MGMTPORT HTTPPORT
pebble_conf() {
    cat >"$1" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$2", "managementListenAddress": "127.0.0.1:$3",
  "certificate": "$WORK/pebble-cert.pem", "privateKey": "$WORK/pebble-key.pem",
  "httpPort": $4, "tlsPort": 5001, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF
}
mockca_args() { # mockca_args CONF STATEDIR
    printf '%s\n' "$MOCKCA" -config "$1" --state-dir "$2" --dns 127.0.0.1:0 \
        --dns-management 127.0.0.1:0
}

echo "mockca_bench: $STARTS starts each (alternating), then certcli bench -w $WORKERS to" \
    "${MARKS[*]} issuances" >&2

# --- start-up times -----------------------------------------------------------------------
: >"$WORK/start-mockca" && : >"$WORK/start-pebble"
for i in $(seq 1 "$STARTS"); do
    p=$(free_port)
    mockca_conf "$WORK/m$i.json" "$p" 0 5002
    mapfile -t margs < <(mockca_args "$WORK/m$i.json" "$WORK/ms$i")
    "$LOAD" start "https://127.0.0.1:$p/dir" 10000 -- "${margs[@]}" | awk '{print $1}' \
        >>"$WORK/start-mockca" || true
    p=$(free_port)
    pebble_conf "$WORK/p$i.json" "$p" "$(free_port)" 5002
    "$LOAD" start "https://127.0.0.1:$p/dir" 10000 -- pebble -config "$WORK/p$i.json" |
        awk '{print $1}' >>"$WORK/start-pebble" || true
done
# stats FILE: min median max (or "- - -" when empty)
stats() {
    sort -n "$1" | awk '{v[NR]=$1} END {
        if (NR == 0) { print "- - -"; exit }
        m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2;
        printf "%.1f %.1f %.1f\n", v[1], m, v[NR]}'
}
read -r M_SMIN M_SMED M_SMAX < <(stats "$WORK/start-mockca")
read -r P_SMIN P_SMED P_SMAX < <(stats "$WORK/start-pebble")

# --- the long-running pair ----------------------------------------------------------------
# wait_dir URL CAFILE PID NAME: until GET URL answers 200 (at most 10 s).
wait_dir() {
    for _ in $(seq 1 200); do
        if curl -sf --max-time 2 --cacert "$2" "$1" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$3" 2>/dev/null || { echo "mockca_bench: $4 exited:" >&2; tail -n 5 "$WORK/$4.log" >&2; exit 1; }
        sleep 0.05
    done
    echo "mockca_bench: $4 did not answer $1 within 10 s" >&2
    exit 1
}
# mem PID: "VmRSS_kB VmHWM_kB RssAnon_kB RssFile_kB" ("- - - -" once PID is gone)
mem() {
    awk '/^VmRSS:/ {r=$2} /^VmHWM:/ {h=$2} /^RssAnon:/ {a=$2} /^RssFile:/ {f=$2}
        END {print r, h, a, f}' "/proc/$1/status" 2>/dev/null || echo "- - - -"
}

M_PORT=$(free_port)
M_MGMT_PORT=$(free_port)
M_HTTP=$(free_port)
mockca_conf "$WORK/mockca.json" "$M_PORT" "$M_MGMT_PORT" "$M_HTTP"
mapfile -t margs < <(mockca_args "$WORK/mockca.json" "$WORK/mstate")
"${margs[@]}" >"$WORK/mockca.log" 2>&1 &
M_PID=$!
PIDS+=("$M_PID")

C_DNS=$(free_port)
C_MGMT=$(free_port)
# -defaultIPv6 "": no AAAA answers, else Pebble dials ::1 where the responder does not listen.
pebble-challtestsrv -http01 "" -https01 "" -tlsalpn01 "" -defaultIPv6 "" -dns01 "127.0.0.1:$C_DNS" \
    -management "127.0.0.1:$C_MGMT" >"$WORK/challtestsrv.log" 2>&1 &
PIDS+=("$!")
P_PORT=$(free_port)
P_MGMT_PORT=$(free_port)
P_HTTP=$(free_port)
pebble_conf "$WORK/pebble.json" "$P_PORT" "$P_MGMT_PORT" "$P_HTTP"
pebble -config "$WORK/pebble.json" -dnsserver "127.0.0.1:$C_DNS" >"$WORK/pebble.log" 2>&1 &
P_PID=$!
PIDS+=("$P_PID")

M_DIR=https://127.0.0.1:$M_PORT/dir
P_DIR=https://127.0.0.1:$P_PORT/dir
M_CA=$WORK/mstate/tls-root.pem
P_CA=$WORK/pebble-cert.pem
for _ in $(seq 1 200); do [ -s "$M_CA" ] && break; sleep 0.05; done
[ -s "$M_CA" ] || { echo "mockca_bench: mockca wrote no $M_CA" >&2; tail -n 5 "$WORK/mockca.log" >&2; exit 1; }
wait_dir "$M_DIR" "$M_CA" "$M_PID" mockca
wait_dir "$P_DIR" "$P_CA" "$P_PID" pebble
M_MGMT=https://127.0.0.1:$M_MGMT_PORT
sleep 1
read -r M_IRSS M_IHWM M_IANON M_IFILE < <(mem "$M_PID")
read -r P_IRSS P_IHWM P_IANON P_IFILE < <(mem "$P_PID")

# bench NAME DIR CAFILE HTTPPORT COUNT TAG -> "ok fail rate" (certcli bench's JSON kept in
# $WORK/NAME-TAG.json); "0 COUNT 0" when it gave no report.
bench() {
    local rc=0 j=$WORK/$1-$6.json
    timeout $((MAXS + 600)) "$CERTCLI" --server "$2" --ca-bundle "$3" --dir "$WORK/state-$1" \
        bench -w "$WORKERS" -n "$5" -d "$MAXS" -k "$KEYTYPE" --http-port "$4" \
        --poll-timeout 30 --json >"$j" 2>"$WORK/$1-$6.err" || rc=$?
    if [ ! -s "$j" ] || ! jq -e .issuances "$j" >/dev/null 2>&1; then
        echo "mockca_bench: certcli bench against $1 gave no report (exit $rc):" >&2
        tail -n 5 "$WORK/$1-$6.err" >&2
        echo "0 $5 0"
        return
    fi
    jq -r '"\(.issuances) \(.failures) \(.issuances_per_s*10|round/10)"' "$j"
}
sweep() { # sweep N: mockca's clock +ADVANCE_H, POST /sweep into $WORK/sweep-N.json
    curl -sf --max-time 10 --cacert "$M_CA" -d "{\"advance_ms\": $((ADVANCE_H * 3600000))}" \
        "$M_MGMT/clock" >/dev/null || { echo "mockca_bench: POST /clock failed" >&2; return 1; }
    curl -sf --max-time 60 --cacert "$M_CA" -X POST "$M_MGMT/sweep" >"$WORK/sweep-$1.json" ||
        { echo "mockca_bench: POST /sweep failed" >&2; return 1; }
    sleep 0.5
}

echo "mockca_bench: ran, for each chunk of COUNT issuances:" >&2
echo "  $CERTCLI --server URL --ca-bundle CA --dir STATE bench -w $WORKERS -n COUNT -d $MAXS -k $KEYTYPE --http-port HTTPPORT --poll-timeout 30 --json" >&2
P_STATE=ok  # ok, or why Pebble was left out from some mark on
declare -A M_RSS M_SW M_OK M_FAIL M_RATE P_RSS P_OK P_FAIL P_RATE
M_DONE=0
P_DONE=0
prev=0
for mark in "${MARKS[@]}"; do
    count=$((mark - prev))
    prev=$mark
    read -r ok fail rate < <(bench mockca "$M_DIR" "$M_CA" "$M_HTTP" "$count" "$mark")
    if [ ! -s "$WORK/mockca-$mark.json" ]; then
        # Seen once: the responder's port taken for a moment (by an outgoing connection's
        # ephemeral port on this busy machine). One retry after a pause.
        sleep 5
        read -r ok fail rate < <(bench mockca "$M_DIR" "$M_CA" "$M_HTTP" "$count" "$mark")
    fi
    M_DONE=$((M_DONE + ok))
    M_OK[$mark]=$M_DONE M_FAIL[$mark]=$fail M_RATE[$mark]=$rate
    kill -0 "$M_PID" 2>/dev/null || { echo "mockca_bench: mockca died:" >&2; tail -n 5 "$WORK/mockca.log" >&2; exit 1; }
    sleep 0.5
    M_RSS[$mark]=$(mem "$M_PID")
    sweep "$mark" || exit 1
    M_SW[$mark]=$(mem "$M_PID")
    echo "mockca_bench: mockca at $mark: ok $ok fail $fail $rate/s, VmRSS ${M_RSS[$mark]%% *} kB," \
        "after sweep ${M_SW[$mark]%% *} kB" >&2

    [ "$P_STATE" = ok ] || continue
    read -r ok fail rate < <(bench pebble "$P_DIR" "$P_CA" "$P_HTTP" "$count" "$mark")
    P_DONE=$((P_DONE + ok))
    P_OK[$mark]=$P_DONE P_FAIL[$mark]=$fail P_RATE[$mark]=$rate
    sleep 0.5
    P_RSS[$mark]=$(mem "$P_PID")
    echo "mockca_bench: pebble at $mark: ok $ok fail $fail $rate/s, VmRSS ${P_RSS[$mark]%% *} kB" >&2
    if ! kill -0 "$P_PID" 2>/dev/null; then
        P_STATE="died during the chunk to $mark ($P_DONE issued in all; log: $(tail -n 1 "$WORK/pebble.log"))"
    elif ! curl -sf --max-time 5 --cacert "$P_CA" "$P_DIR" >/dev/null 2>&1; then
        P_STATE="wedged during the chunk to $mark: GET /dir no answer within 5 s ($P_DONE issued in all)"
    elif [ "$ok" -eq 0 ]; then
        P_STATE="issued nothing in the chunk to $mark ($fail failed; $P_DONE issued in all)"
    elif [ $((ok + fail)) -lt "$count" ]; then
        # -d stopped new issuances: the chunk did not finish within MAXS seconds.
        P_STATE="stalled in the chunk to $mark: $ok of $count issued and $fail failed when -d ${MAXS}s ended it ($P_DONE issued in all)"
    fi
    # A finished chunk with a few failed issuances goes on; its failures are in the table.
    [ "$P_STATE" = ok ] || echo "mockca_bench: pebble $P_STATE; going on with mockca alone" >&2
done

# --- report -------------------------------------------------------------------------------
mib() { case "$1" in -|'') echo - ;; *) awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}' ;; esac; }
row() { printf "%-46s %14s %14s\n" "$1" "$2" "$3"; }
thou() { printf "%'d" "$1" 2>/dev/null || echo "$1"; }
LAST=$TOTAL
echo
echo "mockca $MOCKCA (build: $BUILD_TYPE) vs $(command -v pebble) ($(dpkg-query -W -f='${Version}' pebble 2>/dev/null || echo '?'))"
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); certcli bench -w $WORKERS, $KEYTYPE keys (fresh per issuance), http-01 really validated"
echo "ran per chunk: certcli --server DIR --ca-bundle CA --dir STATE bench -w $WORKERS -n COUNT -d $MAXS -k $KEYTYPE --http-port CA_HTTPPORT --poll-timeout 30 --json; marks: ${MARKS[*]}"
echo "both CAs: PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0; mockca: clock +${ADVANCE_H}h and POST /sweep after every mark"
echo
row figure mockca pebble
row "exec to directory, min (ms)" "$M_SMIN" "$P_SMIN"
row "exec to directory, median of $STARTS (ms)" "$M_SMED" "$P_SMED"
row "exec to directory, max (ms)" "$M_SMAX" "$P_SMAX"
row "idle VmRSS (MiB)" "$(mib "$M_IRSS")" "$(mib "$P_IRSS")"
row "idle RssAnon / RssFile (MiB)" "$(mib "$M_IANON") / $(mib "$M_IFILE")" "$(mib "$P_IANON") / $(mib "$P_IFILE")"
for mark in "${MARKS[@]}"; do
    read -r mr _ <<<"${M_RSS[$mark]}"
    read -r ms _ <<<"${M_SW[$mark]}"
    pr=-
    [ -n "${P_RSS[$mark]:-}" ] && read -r pr _ <<<"${P_RSS[$mark]}"
    row "after $(thou "$mark"): VmRSS (MiB)" "$(mib "$mr")" "$(mib "$pr")"
    row "  mockca swept (clock +${ADVANCE_H}h): VmRSS (MiB)" "$(mib "$ms")" "-"
    row "  chunk rate (issuances/s), failures" "${M_RATE[$mark]}, ${M_FAIL[$mark]}" \
        "${P_RATE[$mark]:--}, ${P_FAIL[$mark]:--}"
done
read -r _ mh ma mf <<<"${M_RSS[$LAST]}"
ph=- pa=- pf=-
[ -n "${P_RSS[$LAST]:-}" ] && read -r _ ph pa pf <<<"${P_RSS[$LAST]}"
row "after $(thou "$LAST"): VmHWM (MiB)" "$(mib "$mh")" "$(mib "$ph")"
row "after $(thou "$LAST"): RssAnon / RssFile (MiB)" "$(mib "$ma") / $(mib "$mf")" "$(mib "$pa") / $(mib "$pf")"
row "issued in all (ok)" "$M_DONE" "$P_DONE"
echo
echo "starts (ms), mockca: $(tr '\n' ' ' <"$WORK/start-mockca")"
echo "starts (ms), pebble: $(tr '\n' ' ' <"$WORK/start-pebble")"
[ "$P_STATE" = ok ] || echo "PEBBLE: $P_STATE; its later marks are '-'"
echo
echo "mockca growth after sweeps, per step of $(thou "$STEP") (VmRSS swept at a mark minus swept at the mark before):"
prevm= line=
for mark in "${MARKS[@]}"; do
    read -r ms _ <<<"${M_SW[$mark]}"
    if [ -n "$prevm" ] && [ $((mark - prevm)) -eq "$STEP" ]; then
        read -r pms _ <<<"${M_SW[$prevm]}"
        line+=" $(thou "$prevm")->$(thou "$mark"): $(awk -v a="$ms" -v b="$pms" 'BEGIN {printf "%+.2f", (a - b) / 1024}')"
    fi
    prevm=$mark
done
echo " ${line:- (fewer than two marks STEP apart)} MiB"
for mark in "${MARKS[@]}"; do
    echo "  sweep at $(thou "$mark"): $(jq -c '{dropped, accounts, orders, authzs, challenges, certs, registry, nonces, heapInUse, heapFree}' "$WORK/sweep-$mark.json" 2>/dev/null || echo '?')"
done
echo
echo "aims (issue 3): exec to directory within 30 ms (mockca median $M_SMED ms; Pebble $P_SMED);" \
    "idle under 10 MiB (mockca $(mib "$M_IRSS") MiB; Pebble $(mib "$P_IRSS"));" \
    "memory stops growing once finished objects pass retention (growth per step above)"
