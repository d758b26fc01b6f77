#!/usr/bin/env bash
# dns_bench.sh: dnsmock against pebble-challtestsrv and a bare UDP echo loop, under dnsperf.
#
#   bash tests/bench/dns_bench.sh [-c CLIENTS] [-l SECONDS] [-q OUTSTANDING] [-Q MAX_QPS]
#                                 [-t UDP_THREADS] [-P DNSPERF_THREADS]
#
# Defaults: -c 4 -l 10 -q 500 -Q 1000000 -t 2 -P 2. Env MC_BUILD_DIR picks a build directory
# (default <repo>/build-bench, configured Release and built here if its dnsmock binary is
# missing; a Debug build measures -O0 code, so prefer a Release one).
#
# Each server runs on its own kernel-picked free port. The same query file (A and TXT
# queries for 50 names each; the TXT records set on both servers through their
# management APIs first), the same concurrency and the same duration are used for all
# three. Per server it reports dnsperf's queries/s, lost queries and average latency, and
# the server's resident memory (VmRSS now, VmHWM peak) from /proc/PID/status; then the
# ratios dnsmock/challtestsrv and dnsmock/echo. The echo loop (udp_echo.c) batches with
# recvmmsg/sendmmsg exactly as dnsmock's workers do, so it is the honest kernel ceiling on
# this machine. Every process it starts is stopped by PID on exit.
#
# Needs: dnsperf, pebble-challtestsrv, curl, python3, cc, cmake. Not a ctest test.
set -euo pipefail

CLIENTS=4
SECONDS_RUN=10
OUTSTANDING=500
MAXQPS=1000000
THREADS=2
PERF_THREADS=2 # one dnsperf thread tops out near 140k queries/s here: it, not the server, is then the limit
while getopts "c:l:q:Q:t:P:h" opt; do
    case "$opt" in
    c) CLIENTS=$OPTARG ;;
    l) SECONDS_RUN=$OPTARG ;;
    q) OUTSTANDING=$OPTARG ;;
    Q) MAXQPS=$OPTARG ;;
    t) THREADS=$OPTARG ;;
    P) PERF_THREADS=$OPTARG ;;
    *) sed -n '2,10p' "$0"; exit 2 ;;
    esac
done

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${MC_BUILD_DIR:-$SRC/build-bench}
DNSMOCK=$BUILD/dnsmock/dnsmock

for tool in dnsperf pebble-challtestsrv curl python3 cc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "dns_bench: $tool is not installed" >&2
        exit 1
    fi
done

if [ ! -x "$DNSMOCK" ]; then
    echo "dns_bench: building dnsmock (Release) in $BUILD" >&2
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMOCKCA_INTEROP=OFF >/dev/null
    cmake --build "$BUILD" --target dnsmock -j2 >/dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dns_bench.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -pthread -o "$WORK/udp_echo" "$SRC/tests/bench/udp_echo.c"

# A port free for both UDP and TCP, picked by the kernel (challtestsrv cannot take port 0
# and tell us which it got). The window until challtestsrv binds it is small.
free_port() {
    python3 - <<'EOF'
import socket
for _ in range(50):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close()
        continue
    u.close()
    t.close()
    print(port)
    break
EOF
}

# Waits (at most 10 s) until name/TXT at port answers with value.
wait_txt() {
    local port=$1 name=$2 want=$3
    for _ in $(seq 1 100); do
        if python3 - "$port" "$name" "$want" <<'EOF'
import socket, struct, sys
port, name, want = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
q = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0)
for label in name.strip(".").split("."):
    q += bytes([len(label)]) + label.encode()
q += b"\0" + struct.pack(">HH", 16, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
try:
    s.sendto(q, ("127.0.0.1", port))
    r = s.recv(4096)
except OSError:
    sys.exit(1)
sys.exit(0 if want in r else 1)
EOF
        then
            return 0
        fi
        sleep 0.1
    done
    echo "dns_bench: $name TXT never answered $want on port $port" >&2
    return 1
}

NAMES=50
QUERIES=$WORK/queries.txt
for i in $(seq 1 $NAMES); do
    echo "host$i.bench.test A"
    echo "_acme-challenge.host$i.bench.test TXT"
done >"$QUERIES"

set_txts() {
    local mgmt=$1
    for i in $(seq 1 $NAMES); do
        curl -sf -X POST -d "{\"host\":\"_acme-challenge.host$i.bench.test.\",\"value\":\"token-$i\"}" \
            "$mgmt/set-txt" >/dev/null
    done
}

# --- dnsmock ----------------------------------------------------------------------------
"$DNSMOCK" --dns 127.0.0.1:0 --management 127.0.0.1:0 --http01 "" --tlsalpn01 "" \
    --udp-threads "$THREADS" --log-level error >"$WORK/dnsmock.out" 2>"$WORK/dnsmock.err" &
DNSMOCK_PID=$!
PIDS+=("$DNSMOCK_PID")
for _ in $(seq 1 100); do
    grep -q '^management ' "$WORK/dnsmock.out" 2>/dev/null && break
    sleep 0.1
done
DNSMOCK_PORT=$(awk '$1 == "dns" { n = split($2, a, ":"); print a[n] }' "$WORK/dnsmock.out")
DNSMOCK_MGMT=$(awk '$1 == "management" { print $2 }' "$WORK/dnsmock.out")
if [ -z "$DNSMOCK_PORT" ] || [ -z "$DNSMOCK_MGMT" ]; then
    echo "dns_bench: dnsmock did not start:" >&2
    cat "$WORK/dnsmock.out" "$WORK/dnsmock.err" >&2
    exit 1
fi
set_txts "$DNSMOCK_MGMT"
wait_txt "$DNSMOCK_PORT" "_acme-challenge.host$NAMES.bench.test" "token-$NAMES"

# --- pebble-challtestsrv ---------------------------------------------------------------
CTS_PORT=$(free_port)
CTS_MGMT_PORT=$(free_port)
CTS_FLAGS=(-dns01 "127.0.0.1:$CTS_PORT" -management "127.0.0.1:$CTS_MGMT_PORT"
    -http01 "" -tlsalpn01 "")
# Flags differ between versions: pass the optional listeners' "off" only where they exist.
CTS_HELP=$(pebble-challtestsrv -h 2>&1 || true)
for f in https01 doh; do
    if grep -q -- "-$f " <<<"$CTS_HELP"; then
        CTS_FLAGS+=("-$f" "")
    fi
done
pebble-challtestsrv "${CTS_FLAGS[@]}" >"$WORK/cts.out" 2>&1 &
CTS_PID=$!
PIDS+=("$CTS_PID")
for _ in $(seq 1 100); do
    curl -sf -X POST -d '{"host":"probe.bench.test.","value":"p"}' \
        "http://127.0.0.1:$CTS_MGMT_PORT/set-txt" >/dev/null 2>&1 && break
    sleep 0.1
done
set_txts "http://127.0.0.1:$CTS_MGMT_PORT"
wait_txt "$CTS_PORT" "_acme-challenge.host$NAMES.bench.test" "token-$NAMES"

# --- echo -------------------------------------------------------------------------------
"$WORK/udp_echo" 127.0.0.1 0 "$THREADS" >"$WORK/echo.out" &
ECHO_PID=$!
PIDS+=("$ECHO_PID")
for _ in $(seq 1 50); do
    grep -q '^port ' "$WORK/echo.out" 2>/dev/null && break
    sleep 0.1
done
ECHO_PORT=$(awk '$1 == "port" { print $2 }' "$WORK/echo.out")

# --- runs -------------------------------------------------------------------------------
mem_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

declare -A QPS LOST LAT RSS HWM
run() {
    local name=$1 port=$2 pid=$3 out=$WORK/dnsperf.$1
    dnsperf -s 127.0.0.1 -p "$port" -d "$QUERIES" -c "$CLIENTS" -T "$PERF_THREADS" \
        -l "$SECONDS_RUN" -q "$OUTSTANDING" -Q "$MAXQPS" >"$out" 2>&1 || true
    QPS[$name]=$(awk '/Queries per second:/ { print $4 }' "$out")
    LOST[$name]=$(awk '/Queries lost:/ { print $3 " " $4 }' "$out")
    LAT[$name]=$(awk '/Average Latency/ { print $4 }' "$out")
    RSS[$name]=$(mem_kb "$pid" VmRSS)
    HWM[$name]=$(mem_kb "$pid" VmHWM)
    if [ -z "${QPS[$name]}" ]; then
        echo "dns_bench: dnsperf against $name failed:" >&2
        cat "$out" >&2
        QPS[$name]=0
    fi
}
run dnsmock "$DNSMOCK_PORT" "$DNSMOCK_PID"
run challtestsrv "$CTS_PORT" "$CTS_PID"
run echo "$ECHO_PORT" "$ECHO_PID"

echo
echo "dnsperf -c $CLIENTS -T $PERF_THREADS -l $SECONDS_RUN -q $OUTSTANDING -Q $MAXQPS; $((NAMES * 2)) queries" \
    "(A and TXT); udp threads $THREADS; $(nproc) cores"
printf '%-14s %12s %20s %14s %12s %12s\n' server "queries/s" "lost" "avg latency s" \
    "VmRSS kB" "VmHWM kB"
for s in dnsmock challtestsrv echo; do
    printf '%-14s %12s %20s %14s %12s %12s\n' "$s" "${QPS[$s]}" "${LOST[$s]:-?}" \
        "${LAT[$s]:-?}" "${RSS[$s]:-?}" "${HWM[$s]:-?}"
done
awk -v a="${QPS[dnsmock]}" -v b="${QPS[challtestsrv]}" -v c="${QPS[echo]}" 'BEGIN {
    printf "dnsmock/challtestsrv: %.2f\n", (b > 0 ? a / b : 0)
    printf "dnsmock/echo:         %.2f\n", (c > 0 ? a / c : 0)
}'
