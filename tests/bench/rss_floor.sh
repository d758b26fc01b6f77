#!/usr/bin/env bash
# rss_floor.sh: what is the least resident memory a process linking mockca's mandated
# libraries can have, and how far is idle mockca from it (issue 3, idle memory).
#
#   bash tests/bench/rss_floor.sh [-n TOP]
#
# Env MC_BUILD_DIR picks a build directory (default <repo>/build-rss, configured
# RelWithDebInfo and mockca built there when its binary is missing; any other build type is
# measured too, and the report says it is not optimized).
#
# Two processes are started side by side and measured 1 s after they are ready:
#   - rss_floor (tests/bench/rss_floor.c, compiled here with cc and pkg-config): links
#     OpenSSL, libmicrohttpd, ldns and cJSON, initialises OpenSSL, makes one P-256 key and a
#     self-signed certificate, runs ONE libmicrohttpd daemon with TLS on 127.0.0.1 port 0
#     (internal polling thread), and sleeps. Nothing mockca does can weigh less than this:
#     it is the floor the DESIGN.md dependency table sets.
#   - mockca with every listener on 127.0.0.1 port 0 (the same four listeners as `mockca`
#     with no arguments: ACME, management, embedded dnsmock DNS and its API; port 0 only
#     so the run cannot collide with another mockca on the default ports).
# For each: VmRSS, RssAnon (heap and stacks: the process's own) and RssFile (the binary
# and shared libraries mapped in; mostly shared with other processes, but counted in
# every process's RSS) from /proc/PID/status; the number of shared objects mapped; and
# the TOP (default 12) mappings by Rss summed per file from /proc/PID/smaps, so a library
# that costs much shows by name. The difference of the two VmRSS figures is what mockca's
# own code, data and extra threads cost over the floor.
#
# Needs: cc, pkg-config, the -dev packages of OpenSSL, libmicrohttpd, ldns, cJSON (which
# the build needs anyway), cmake when mockca must be built. Every process started here is
# stopped by PID on exit; every wait is bounded. Not a ctest test: nothing is asserted.
set -euo pipefail

TOP=12
while getopts "n:h" opt; do
    case "$opt" in
    n) TOP=$OPTARG ;;
    *) sed -n '2,6p' "$0"; exit 2 ;;
    esac
done
case "$TOP" in '' | *[!0-9]* | 0) echo "rss_floor: -n takes a positive integer" >&2; exit 2 ;; esac

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${MC_BUILD_DIR:-$SRC/build-rss}
MOCKCA=$BUILD/mockca/mockca

for tool in cc pkg-config awk; do
    command -v "$tool" >/dev/null 2>&1 || { echo "rss_floor: $tool is not installed" >&2; exit 1; }
done
if [ ! -x "$MOCKCA" ]; then
    echo "rss_floor: building mockca (RelWithDebInfo) in $BUILD" >&2
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" --target mockca -j2 >/dev/null
fi
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
case "$BUILD_TYPE" in
Release | RelWithDebInfo) ;;
*) BUILD_TYPE="NOT optimized (${BUILD_TYPE:-?})" ;;
esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rss_floor.XXXXXX")
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

# shellcheck disable=SC2046 # pkg-config's flags are words
cc -O2 -o "$WORK/rss_floor" "$SRC/tests/bench/rss_floor.c" \
    $(pkg-config --cflags --libs openssl libmicrohttpd ldns libcjson)

# wait_for FILE PATTERN PID NAME: up to 10 s for PATTERN in FILE while PID lives.
wait_for() {
    for _ in $(seq 1 100); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || { echo "rss_floor: $4 exited:" >&2; tail -n 5 "$1" >&2; exit 1; }
        sleep 0.1
    done
    echo "rss_floor: $4 not ready after 10 s" >&2
    tail -n 5 "$1" >&2
    exit 1
}

"$WORK/rss_floor" >"$WORK/floor.log" 2>&1 &
FLOOR_PID=$!
PIDS+=("$FLOOR_PID")
(cd "$WORK" && exec "$MOCKCA" --listen 127.0.0.1:0 --management 127.0.0.1:0 \
    --dns 127.0.0.1:0 --dns-management 127.0.0.1:0) >"$WORK/mockca.log" 2>&1 &
MOCKCA_PID=$!
PIDS+=("$MOCKCA_PID")
wait_for "$WORK/floor.log" '^ready' "$FLOOR_PID" rss_floor
wait_for "$WORK/mockca.log" 'event=ca.ready' "$MOCKCA_PID" mockca
# Listeners and workers settle (the CA's key, the listeners' threads) within a second.
sleep 1

report() { # report PID NAME
    local pid=$1 name=$2
    echo "== $name (pid $pid)"
    grep -E '^(VmRSS|RssAnon|RssFile|RssShmem|Threads):' "/proc/$pid/status" | tr -s ' \t' ' '
    echo "shared objects mapped: $(awk '$6 ~ /\.so/ {print $6}' "/proc/$pid/maps" | sort -u | grep -c . || true)"
    echo "top $TOP mappings by Rss (kB, summed per file):"
    awk '
        /^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6) ? $6 : "[anon]"; next }
        /^Rss:/ { rss[name] += $2 }
        END { for (n in rss) if (rss[n] > 0) printf "%8d  %s\n", rss[n], n }
    ' "/proc/$pid/smaps" | sort -rn | head -n "$TOP"
}

echo "rss_floor: mockca from $BUILD ($BUILD_TYPE); the floor built with cc -O2"
head -n 1 "$WORK/floor.log"
report "$FLOOR_PID" "rss_floor (OpenSSL + libmicrohttpd/TLS + ldns + cJSON, one daemon)"
report "$MOCKCA_PID" "mockca (4 listeners, embedded dnsmock, idle)"
FLOOR_RSS=$(awk '/^VmRSS:/ {print $2}' "/proc/$FLOOR_PID/status")
MOCKCA_RSS=$(awk '/^VmRSS:/ {print $2}' "/proc/$MOCKCA_PID/status")
echo "== mockca over the floor: $((MOCKCA_RSS - FLOOR_RSS)) kB VmRSS ($MOCKCA_RSS - $FLOOR_RSS)"
