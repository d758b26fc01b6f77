#!/usr/bin/env bash
# cpu_per_issuance.sh: CPU time one issuance costs mockca and certcli, read from /proc, for
# one build or for two builds compared in alternating rounds (so that the machine's drift
# falls on both alike).
#
#   bash tests/bench/cpu_per_issuance.sh [-n ISSUANCES] [-r ROUNDS] [-w WORKERS] BUILD [BUILD2]
#
# Defaults: -n 4000 -r 4 -w 2. BUILD and BUILD2 are CMake build directories holding
# mockca/mockca and client/certcli (Release builds measure what users run; a Debug build
# measures -O0 code). For each round and build: a fresh mockca (Pebble-style JSON config,
# listeners on kernel-picked ports, no management API, PEBBLE_VA_NOSLEEP=1,
# PEBBLE_WFE_NONCEREJECT=0), 200 warm-up issuances, then `certcli bench -w WORKERS -n ISSUANCES` with http-01 really validated.
# mockca's CPU is the change of utime+stime in /proc/PID/stat over the measured run;
# certcli's is the user+system time of its process (/usr/bin/time). Printed per round:
# both in ms per issuance and the bench's issuances per second; then the mean per build.
#
# Ports come from the kernel (port 0; python3 binding port 0 for the http-01 port); each
# mockca is started, and stopped by its PID, with tests/interop/lib/harness.sh; every wait
# is bounded. Not a test: nothing is asserted about speed.
#
# Needs: python3, /usr/bin/time (package time).
set -euo pipefail

N=4000
ROUNDS=4
WORKERS=2
while getopts "n:r:w:h" opt; do
    case "$opt" in
    n) N=$OPTARG ;;
    r) ROUNDS=$OPTARG ;;
    w) WORKERS=$OPTARG ;;
    *) sed -n '2,7p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
for v in "$N" "$ROUNDS" "$WORKERS"; do
    case "$v" in
    '' | *[!0-9]* | 0) echo "cpu_per_issuance: -n, -r and -w take positive integers" >&2; exit 2 ;;
    esac
done
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    sed -n '2,7p' "$0" >&2
    exit 2
fi
BUILDS=("$@")
for b in "${BUILDS[@]}"; do
    for bin in mockca/mockca client/certcli; do
        [ -x "$b/$bin" ] || { echo "cpu_per_issuance: no $b/$bin (build it first)" >&2; exit 1; }
    done
done
for tool in python3 /usr/bin/time; do
    command -v "$tool" >/dev/null 2>&1 || { echo "cpu_per_issuance: $tool is not installed" >&2; exit 1; }
done

SRC=$(cd "$(dirname "$0")/../.." && pwd)
# stop, stop_all and start_mockca; free_port.
. "$SRC/tests/interop/lib/harness.sh"
. "$SRC/tests/interop/lib/mockca_checks.sh"
fail() {
    echo "cpu_per_issuance: $*" >&2
    exit 1
}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cpu_per_issuance.XXXXXX")
PIDS=()
trap stop_all EXIT
trap 'exit 130' INT TERM

export PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0
TICK=$(getconf CLK_TCK)
proc_cpu_ticks() { # utime + stime of PID, in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# measure BUILD TAG ROUND: one round; appends "mockca_ms certcli_ms rate" to $WORK/TAG.txt.
measure() {
    local b=$1 tag=$2 d hport c0 c1 u s rate
    d=$WORK/$tag-$3
    mkdir "$d"
    hport=$(free_port)
    cat >"$d/mockca.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:0", "managementListenAddress": "",
  "httpPort": $hport, "tlsPort": 5001, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF
    CA_TAG=$tag-$3/ca start_mockca "$b/mockca/mockca" "$d/mockca.json" ||
        fail "mockca did not start: $(tail -n 3 "$d/ca.err")"
    local cli=("$b/client/certcli" --server "$DIR_URL" --ca-bundle "$TLS_ROOT")
    timeout 600 "${cli[@]}" --dir "$d/warm" bench -w "$WORKERS" -n 200 --http-port "$hport" \
        --poll-timeout 30 --json >/dev/null
    c0=$(proc_cpu_ticks "$CA_PID")
    timeout 1200 /usr/bin/time -f "%U %S" -o "$d/time" "${cli[@]}" --dir "$d/run" bench \
        -w "$WORKERS" -n "$N" --http-port "$hport" --poll-timeout 30 --json >"$d/report.json"
    c1=$(proc_cpu_ticks "$CA_PID")
    stop "$CA_PID"
    read -r u s <"$d/time"
    rate=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['issuances_per_s'])" \
        "$d/report.json")
    python3 -c "
import sys
c0, c1, tick, n, u, s, rate = sys.argv[1:]
m = (int(c1) - int(c0)) * 1000 / int(tick) / int(n)
c = (float(u) + float(s)) * 1000 / int(n)
print(f'{m:.3f} {c:.3f} {float(rate):.1f}')" "$c0" "$c1" "$TICK" "$N" "$u" "$s" "$rate" |
        tee -a "$WORK/$tag.txt" |
        awk -v t="$tag" '{printf "%s: mockca %s ms, certcli %s ms per issuance, %s issuances/s\n", t, $1, $2, $3}'
    rm -rf "$d"
}

echo "cpu_per_issuance: -n $N -r $ROUNDS -w $WORKERS, $(nproc) cores"
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r"
    for i in "${!BUILDS[@]}"; do
        measure "${BUILDS[$i]}" "build$((i + 1))" "$r"
    done
done
for i in "${!BUILDS[@]}"; do
    awk -v b="${BUILDS[$i]}" '{m += $1; c += $2; r += $3; n++}
        END {printf "mean of %d rounds, %s: mockca %.3f ms, certcli %.3f ms per issuance, %.1f issuances/s\n", n, b, m / n, c / n, r / n}' \
        "$WORK/build$((i + 1)).txt"
done
