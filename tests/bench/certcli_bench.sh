#!/usr/bin/env bash
# certcli_bench.sh: `certcli bench` against mockca and against Debian's Pebble, side by side
# in one run, same workers, same count, same key type; then the crypto bound.
#
#   bash tests/bench/certcli_bench.sh [-w WORKERS] [-n ISSUANCES] [-k KEYTYPE] [-s SECONDS]
#                                     [-t MAXSECONDS]
#
# Defaults: -w 2 -n 200 -k ec256 -s 2 (seconds per `openssl speed` measurement) -t 300 (no
# issuance starts after this long in either run: `certcli bench -d`, so that a CA that
# wedges still gives a report, its stuck requests counted as failures). Seen here: with
# -w 8, Debian's Pebble 2.4.0 stopped answering for good after about 400 issuances, every
# request goroutine blocked in db.(*MemoryStore).GetAccountByID (SIGQUIT dump); -w 2 and
# -w 4 did not. Env
# MC_BUILD_DIR picks a build directory (default <repo>/build-certcli-bench, configured
# Release and built here when its mockca or certcli binary is missing; a Debug build
# measures -O0 code and the report says so).
#
# Both CAs run with PEBBLE_VA_NOSLEEP=1 and PEBBLE_WFE_NONCEREJECT=0 and really validate
# http-01 against the bench's own responder: each CA's httpPort is a free port that
# `certcli bench --http-port` then listens on. mockca resolves the random names under
# bench.test through its embedded dnsmock, Pebble through a pebble-challtestsrv (DNS only,
# its -dnsserver), both answering 127.0.0.1 for every name. Debian's pebble package ships no
# TLS certificate for its listener (`dpkg -L pebble`: only example configs naming
# test/certs/localhost/*.pem, which are not installed), so a P-256 one for 127.0.0.1 is made
# here and given to certcli as --ca-bundle. mockca generates its own and writes its root to
# its state directory. Each CA first gets WORKERS warm-up issuances (not measured).
#
# The crypto bound: what one issuance costs the CPU in public-key cryptography alone, both
# sides together since client and CA share this machine, measured with `openssl speed`:
#   client: one JWS signature with the account key (ES256) per request; requests per
#           issuance R is measured by certcli bench (sess_stats), so polls are counted;
#           one CSR signature with the certificate key; the certificate key's generation
#           (fresh per issuance, certcli bench's default);
#   CA:     one JWS verification per request (R), the CSR's verification, and the leaf's
#           signature with the CA's issuing key (its type read from the CA's
#           /intermediates/0). No OCSP or CRL signing happens per issuance in either CA.
#   Not counted: TLS handshakes (one per worker for the whole run, kept alive), symmetric
#   TLS record crypto and hashing (SHA-256 of a few KB: microseconds), JSON and HTTP.
# openssl speed (3.0) has no key-generation figure: an EC key generation is one fixed-base
# scalar multiplication, the same work as an ECDSA signature minus a modular inverse, so it
# is counted as one signature (slightly pessimistic); an RSA key generation is timed here by
# a small C loop over EVP_PKEY_Q_keygen (openssl speed cannot).
# T = sum of (operations x seconds per operation); with C = 2 cores fully busy doing
# nothing else, at most C / T issuances per second. The report prints each CA's rate as a
# fraction of that bound (1.0 would mean all CPU time went to the cryptography).
#
# Ports are picked free by the kernel (python3 binding port 0). Every process started here
# is stopped by PID on exit; every wait is bounded. Not a test: nothing is asserted about
# speed.
#
# Needs: pebble, pebble-challtestsrv, openssl, curl, python3, jq, cc, cmake.
set -euo pipefail

WORKERS=2
N=200
KEYTYPE=ec256
SPEED_S=2
MAXS=300
while getopts "w:n:k:s:t:h" opt; do
    case "$opt" in
    w) WORKERS=$OPTARG ;;
    n) N=$OPTARG ;;
    k) KEYTYPE=$OPTARG ;;
    s) SPEED_S=$OPTARG ;;
    t) MAXS=$OPTARG ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
    esac
done
for v in "$WORKERS" "$N" "$SPEED_S" "$MAXS"; do
    case "$v" in
    '' | *[!0-9]* | 0) echo "certcli_bench: -w, -n, -s and -t take positive integers" >&2; exit 2 ;;
    esac
done
case "$KEYTYPE" in
ec256 | p256) KALG=ecdsap256 ;;
ec384 | p384) KALG=ecdsap384 ;;
rsa2048) KALG=rsa2048 ;;
rsa3072) KALG=rsa3072 ;;
rsa4096) KALG=rsa4096 ;;
*) echo "certcli_bench: -k takes ec256, ec384, rsa2048, rsa3072 or rsa4096" >&2; exit 2 ;;
esac

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${MC_BUILD_DIR:-$SRC/build-certcli-bench}
MOCKCA=$BUILD/mockca/mockca
CERTCLI=$BUILD/client/certcli

for tool in pebble pebble-challtestsrv openssl curl python3 jq cc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "certcli_bench: $tool is not installed" >&2
        exit 1
    fi
done
if [ ! -x "$MOCKCA" ] || [ ! -x "$CERTCLI" ]; then
    echo "certcli_bench: building mockca and certcli (Release) in $BUILD" >&2
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" --target mockca certcli -j2 >/dev/null
fi
if grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    BUILD_TYPE=Release
else
    BUILD_TYPE="NOT Release ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD/CMakeCache.txt" 2>/dev/null))"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/certcli_bench.XXXXXX")
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

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_url URL CAFILE PID NAME: until GET URL answers 2xx (at most 10 s).
wait_url() {
    for _ in $(seq 1 200); do
        if curl -sf --max-time 2 --cacert "$2" "$1" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$3" 2>/dev/null || { echo "certcli_bench: $4 exited:" >&2; tail -n 5 "$WORK/$4.log" >&2; exit 1; }
        sleep 0.05
    done
    echo "certcli_bench: $4 did not answer $1 within 10 s" >&2
    exit 1
}

export PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0

# --- mockca -------------------------------------------------------------------------------
M_PORT=$(free_port)
M_MGMT_PORT=$(free_port)
M_HTTP=$(free_port)
cat >"$WORK/mockca.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$M_PORT", "managementListenAddress": "127.0.0.1:$M_MGMT_PORT",
  "httpPort": $M_HTTP, "tlsPort": 5001, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF
"$MOCKCA" -config "$WORK/mockca.json" --state-dir "$WORK/mstate" --dns 127.0.0.1:0 \
    --dns-management 127.0.0.1:0 >"$WORK/mockca.log" 2>&1 &
PIDS+=("$!")
M_PID=$!
M_DIR=https://127.0.0.1:$M_PORT/dir
M_CA=$WORK/mstate/tls-root.pem
for _ in $(seq 1 200); do [ -s "$M_CA" ] && break; sleep 0.05; done
[ -s "$M_CA" ] || { echo "certcli_bench: mockca wrote no $M_CA" >&2; tail -n 5 "$WORK/mockca.log" >&2; exit 1; }
wait_url "$M_DIR" "$M_CA" "$M_PID" mockca

# --- Pebble with pebble-challtestsrv as its DNS ---------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$WORK/pebble-key.pem" -out "$WORK/pebble-cert.pem" 2>/dev/null
C_DNS=$(free_port)
C_MGMT=$(free_port)
# -defaultIPv6 "": no AAAA answers, else Pebble dials ::1 where the responder does not listen.
pebble-challtestsrv -http01 "" -https01 "" -tlsalpn01 "" -defaultIPv6 "" -dns01 "127.0.0.1:$C_DNS" \
    -management "127.0.0.1:$C_MGMT" >"$WORK/challtestsrv.log" 2>&1 &
PIDS+=("$!")
P_PORT=$(free_port)
P_MGMT_PORT=$(free_port)
P_HTTP=$(free_port)
cat >"$WORK/pebble.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$P_PORT", "managementListenAddress": "127.0.0.1:$P_MGMT_PORT",
  "certificate": "$WORK/pebble-cert.pem", "privateKey": "$WORK/pebble-key.pem",
  "httpPort": $P_HTTP, "tlsPort": 5001, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
EOF
pebble -config "$WORK/pebble.json" -dnsserver "127.0.0.1:$C_DNS" >"$WORK/pebble.log" 2>&1 &
PIDS+=("$!")
P_PID=$!
P_DIR=https://127.0.0.1:$P_PORT/dir
P_CA=$WORK/pebble-cert.pem
wait_url "$P_DIR" "$P_CA" "$P_PID" pebble

# --- the runs -----------------------------------------------------------------------------
# run NAME DIR CAFILE HTTPPORT: certcli bench's JSON report into $WORK/NAME.json.
run() {
    local rc=0
    echo "certcli_bench: $1: $WORKERS worker(s), $N issuances, $KEYTYPE keys" >&2
    # The outer timeout is a last resort: -d bounds new issuances, --poll-timeout and the
    # session's retries bound the ones in flight.
    timeout $((MAXS + 600)) "$CERTCLI" --server "$2" --ca-bundle "$3" --dir "$WORK/state-$1" bench \
        -w "$WORKERS" -n "$N" -d "$MAXS" -k "$KEYTYPE" --warmup "$WORKERS" --http-port "$4" \
        --poll-timeout 30 --json \
        >"$WORK/$1.json" 2>"$WORK/$1.err" || rc=$?
    if [ ! -s "$WORK/$1.json" ]; then
        echo "certcli_bench: certcli bench against $1 gave no report (exit $rc):" >&2
        tail -n 10 "$WORK/$1.err" >&2
        exit 1
    fi
}
run mockca "$M_DIR" "$M_CA" "$M_HTTP"
run pebble "$P_DIR" "$P_CA" "$P_HTTP"

# --- the crypto bound ---------------------------------------------------------------------
# The CA's issuing key: what signs each leaf.
ca_alg() { # ca_alg MGMTBASE CAFILE -> an openssl speed algorithm name
    local txt
    txt=$(curl -sf --max-time 10 --cacert "$2" "$1/intermediates/0" | openssl x509 -noout -text) ||
        { echo "?"; return; }
    if grep -q 'rsaEncryption' <<<"$txt"; then
        echo "rsa$(sed -n 's/.*Public-Key: (\([0-9]*\) bit).*/\1/p' <<<"$txt" | head -n 1)"
    elif grep -q 'NIST CURVE: P-384' <<<"$txt"; then
        echo ecdsap384
    else
        echo ecdsap256
    fi
}
M_CA_ALG=$(ca_alg "https://127.0.0.1:$M_MGMT_PORT" "$M_CA")
P_CA_ALG=$(ca_alg "https://127.0.0.1:$P_MGMT_PORT" "$P_CA")

# openssl speed -mr lines: "+F2:n:bits:sign/s:verify/s" (RSA), "+F4:n:bits:sign/s:verify/s"
# (ECDSA). One run for all the algorithms needed.
ALGS=$(printf '%s\n' ecdsap256 "$KALG" "$M_CA_ALG" "$P_CA_ALG" | grep -v '^?$' | sort -u | tr '\n' ' ')
echo "certcli_bench: openssl speed -seconds $SPEED_S $ALGS" >&2
# shellcheck disable=SC2086
openssl speed -mr -seconds "$SPEED_S" $ALGS 2>/dev/null | grep -E '^\+F[24]:' >"$WORK/speed.txt"
# rate ALG sign|verify -> operations per second
rate() {
    local kind=F4 bits=${1#ecdsap}
    case "$1" in rsa*) kind=F2 bits=${1#rsa} ;; esac
    awk -F: -v k="+$kind" -v b="$bits" -v col="$([ "$2" = sign ] && echo 4 || echo 5)" \
        '$1 == k && $3 == b {print $col; exit}' "$WORK/speed.txt"
}
# Key generation of the certificate key, per second: RSA timed by a C loop, EC as a signature.
keygen_rate() {
    case "$KEYTYPE" in
    rsa*)
        cat >"$WORK/keygen.c" <<'EOF'
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int argc, char **argv)
{
    unsigned bits = (unsigned)atoi(argv[1]);
    double limit = atof(argv[2]), el = 0;
    struct timespec a, b;
    long n = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    while (el < limit) {
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
        if (k == NULL)
            return 1;
        EVP_PKEY_free(k);
        n++;
        clock_gettime(CLOCK_MONOTONIC, &b);
        el = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    }
    printf("%.2f\n", (double)n / el);
    return 0;
}
EOF
        cc -O2 -o "$WORK/keygen" "$WORK/keygen.c" -lcrypto
        "$WORK/keygen" "${KEYTYPE#rsa}" "$SPEED_S"
        ;;
    *) rate "$KALG" sign ;;
    esac
}
KEYGEN=$(keygen_rate)
ACCT_SIGN=$(rate ecdsap256 sign)
ACCT_VERIFY=$(rate ecdsap256 verify)
CSR_SIGN=$(rate "$KALG" sign)
CSR_VERIFY=$(rate "$KALG" verify)
M_LEAF=$(rate "$M_CA_ALG" sign)
P_LEAF=$(rate "$P_CA_ALG" sign)

# --- report ---------------------------------------------------------------------------------
M_RATE=$(jq -r .issuances_per_s "$WORK/mockca.json")
P_RATE=$(jq -r .issuances_per_s "$WORK/pebble.json")
M_REQ=$(jq -r .requests.per_issuance "$WORK/mockca.json")
P_REQ=$(jq -r .requests.per_issuance "$WORK/pebble.json")
CORES=2
# bound REQS LEAFRATE -> "T_ms maxrate"
bound() {
    awk -v r="$1" -v as="$ACCT_SIGN" -v av="$ACCT_VERIFY" -v cs="$CSR_SIGN" -v cv="$CSR_VERIFY" \
        -v kg="$KEYGEN" -v ls="$2" -v c="$CORES" 'BEGIN {
        t = r / as + r / av + 1 / cs + 1 / cv + 1 / kg + 1 / ls;
        printf "%.4f %.1f\n", t * 1000, c / t }'
}
read -r M_T M_BOUND < <(bound "$M_REQ" "$M_LEAF")
read -r P_T P_BOUND < <(bound "$P_REQ" "$P_LEAF")

echo
echo "certcli $CERTCLI and mockca $MOCKCA (build: $BUILD_TYPE) vs $(command -v pebble) ($(dpkg-query -W -f='${Version}' pebble 2>/dev/null || echo '?'))"
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); $WORKERS worker(s), $N issuances per CA, $KEYTYPE certificate keys (fresh per issuance), ES256 accounts (one per worker)"
echo "both CAs: PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0, http-01 really validated against certcli bench's responder"
echo
printf "%-34s %12s %12s\n" "" mockca pebble
row() { printf "%-34s %12s %12s\n" "$1" "$2" "$3"; }
field() { jq -r "$2" "$WORK/$1.json"; }
row "issuances ok" "$(field mockca .issuances)" "$(field pebble .issuances)"
row "failures" "$(field mockca .failures)" "$(field pebble .failures)"
row "wall time (s)" "$(field mockca '.wall_s*1000|round/1000')" "$(field pebble '.wall_s*1000|round/1000')"
row "issuances/s" "$(field mockca '.issuances_per_s*100|round/100')" "$(field pebble '.issuances_per_s*100|round/100')"
row "requests per issuance" "$(field mockca '.requests.per_issuance*100|round/100')" "$(field pebble '.requests.per_issuance*100|round/100')"
row "new connections (measured)" "$(field mockca .requests.connections)" "$(field pebble .requests.connections)"
for st in new_order authz finalize download total; do
    row "$st p50 / p99 (ms)" \
        "$(field mockca ".steps.$st | \"\(.p50_ms*10|round/10)/\(.p99_ms*10|round/10)\"")" \
        "$(field pebble ".steps.$st | \"\(.p50_ms*10|round/10)/\(.p99_ms*10|round/10)\"")"
done
for n in mockca pebble; do
    if [ "$(field $n .failures)" != 0 ]; then
        echo "  $n failures: $(jq -c '[.failure_types[] | {type, count}]' "$WORK/$n.json")"
    fi
done
RATIO=$(awk -v a="$M_RATE" -v b="$P_RATE" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
echo
echo "throughput ratio mockca / pebble: $RATIO   (aim: at least 10)"
echo
i() { printf %.0f "$1"; }
echo "crypto (openssl speed, operations/s): ES256 sign $(i "$ACCT_SIGN") verify $(i "$ACCT_VERIFY");" \
    "$KALG CSR sign $(i "$CSR_SIGN") verify $(i "$CSR_VERIFY"); $KEYTYPE keygen $(i "$KEYGEN");" \
    "leaf signature: mockca ($M_CA_ALG) $(i "$M_LEAF"), pebble ($P_CA_ALG) $(i "$P_LEAF")"
echo "  per issuance: R x (ES256 sign + verify) + CSR sign + verify + keygen + leaf sign, on $CORES cores"
echo "  mockca: R=$(printf %.2f "$M_REQ") -> $M_T ms of crypto -> at most $M_BOUND issuances/s;" \
    "measured $(printf %.1f "$M_RATE") = $(awk -v a="$M_RATE" -v b="$M_BOUND" 'BEGIN {printf "%.3f", a / b}') of the bound" \
    "(aim: within 2x, i.e. >= 0.5)"
echo "  pebble: R=$(printf %.2f "$P_REQ") -> $P_T ms of crypto -> at most $P_BOUND issuances/s;" \
    "measured $(printf %.1f "$P_RATE") = $(awk -v a="$P_RATE" -v b="$P_BOUND" 'BEGIN {printf "%.3f", a / b}') of the bound"
