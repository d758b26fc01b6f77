#!/usr/bin/env bash
# dig_drill.sh: the dnsmock binary answered by real resolver tools (dig, drill, kdig):
# every record type set through the management API with curl, queried with each tool;
# a TC=1 fault makes dig retry over TCP and get the whole answer.
# Env: MC_BUILD_DIR (the build tree). Exit 77 only when a tool cannot be found.
set -euo pipefail

BIN="${MC_BUILD_DIR:?MC_BUILD_DIR not set}/dnsmock/dnsmock"
for tool in dig drill kdig curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool is not installed (ci/install-deps.sh installs dnsutils, ldnsutils," \
             "knot-dnsutils, curl)" >&2
        exit 77
    fi
done
[ -x "$BIN" ] || { echo "FAIL: $BIN not built" >&2; exit 1; }

WORK=$(mktemp -d)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Port 0: the kernel picks; dnsmock prints the real ports on stdout.
"$BIN" --dns 127.0.0.1:0 --management 127.0.0.1:0 --http01 "" --tlsalpn01 "" --https01 "" \
    >"$WORK/out" 2>"$WORK/err" &
PID=$!
for _ in $(seq 1 100); do
    grep -q '^fault-seed ' "$WORK/out" 2>/dev/null && break
    sleep 0.1
done
DNS_PORT=$(awk '$1 == "dns" { n = split($2, a, ":"); print a[n] }' "$WORK/out")
MGMT=$(awk '$1 == "management" { print $2 }' "$WORK/out")
[ -n "$DNS_PORT" ] && [ -n "$MGMT" ] || { echo "FAIL: no listener lines"; cat "$WORK/out" "$WORK/err"; exit 1; }
echo "dnsmock pid $PID dns port $DNS_PORT management $MGMT"

fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

api() { # path json
    local code
    code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST -d "$2" "$MGMT$1")
    [ "$code" = 200 ] || fail "POST $1 $2 -> $code $(cat "$WORK/body")"
}

# The answer rdata of one query, one record per line, sorted, in presentation form.
# drill sends no EDNS and does not retry a TC=1 answer over TCP, so for answers over 512
# bytes it is asked over TCP directly (DRILL_TCP=1).
rdata() { # tool type name
    case "$1" in
    dig)  dig +short +norecurse @127.0.0.1 -p "$DNS_PORT" "$2" "$3" ;;
    kdig) kdig +short +norecurse @127.0.0.1 -p "$DNS_PORT" "$2" "$3" ;;
    drill)
        drill ${DRILL_TCP:+-t} -p "$DNS_PORT" "$3" @127.0.0.1 "$2" |
            awk '/ANSWER SECTION/ { f = 1; next } /^;;/ { f = 0 } f && NF >= 5 && $4 == "'"$2"'" {
                     s = $5; for (i = 6; i <= NF; i++) s = s " " $i; print s }' ;;
    esac | grep -v '^;;' | sed -e 's/[[:space:]]*$//' -e '/^$/d' | sort
}

check() { # type name expected-lines...
    local type=$1 name=$2; shift 2
    local want; want=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
    for tool in dig drill kdig; do
        local got; got=$(rdata "$tool" "$type" "$name")
        # kdig and drill may print IPv6 and CAA slightly differently; normalize case.
        if [ "$(echo "$got" | tr 'A-Z' 'a-z')" != "$(echo "$want" | tr 'A-Z' 'a-z')" ]; then
            fail "$tool $type $name: got [$got] want [$want]"
        fi
    done
}

api /add-a '{"host":"www.example.com","addresses":["192.0.2.1","192.0.2.2"]}'
api /add-aaaa '{"host":"www.example.com","addresses":["2001:db8::1"]}'
api /set-txt '{"host":"_acme-challenge.example.com","value":"one"}'
api /set-txt '{"host":"_acme-challenge.example.com","value":"two"}'
api /set-cname '{"host":"alias.example.com","target":"www.example.com"}'
api /add-caa '{"host":"example.com","policies":[{"tag":"issue","value":"letsencrypt.org"}]}'
api /add-zone '{"zone":"example.com","ns":"ns1.example.com","soa":{"mname":"ns1.example.com","rname":"hostmaster.example.com","serial":7,"refresh":3600,"retry":900,"expire":604800,"minimum":60}}'
api /add-ns '{"host":"example.com","nameserver":"ns2.example.com"}'
LONG=$(head -c 600 /dev/zero | tr '\0' 'k')
api /set-txt '{"host":"long.example.com","value":"'"$LONG"'"}'

check A www.example.com 192.0.2.1 192.0.2.2
check AAAA www.example.com 2001:db8::1
check TXT _acme-challenge.example.com '"one"' '"two"'
check CNAME alias.example.com www.example.com.
check CAA example.com '0 issue "letsencrypt.org"'
check NS example.com ns1.example.com. ns2.example.com.
check SOA example.com 'ns1.example.com. hostmaster.example.com. 7 3600 900 604800 60'
# A CNAME followed: the alias answers with the CNAME and the target's addresses.
for tool in dig kdig; do
    got=$(rdata "$tool" A alias.example.com | tr '\n' ' ')
    [ "$got" = "192.0.2.1 192.0.2.2 www.example.com. " ] || fail "$tool A alias: [$got]"
done
# Over 255 bytes: several character-strings that join to the whole value.
for tool in dig drill kdig; do
    joined=$(DRILL_TCP=1 rdata "$tool" TXT long.example.com | tr -d '" \n')
    [ "$joined" = "$LONG" ] || fail "$tool long TXT: ${#joined} bytes back, want 600"
done
# TCP too.
got=$(dig +short +tcp @127.0.0.1 -p "$DNS_PORT" TXT _acme-challenge.example.com | sort | tr '\n' ' ')
[ "$got" = '"one" "two" ' ] || fail "dig +tcp TXT: [$got]"

# TC=1 fault: dig sees the truncated UDP answer and retries over TCP by itself.
api /set-txt '{"host":"tc.example.com","value":"whole"}'
api /add-dns-fault '{"match":{"target":"tc.example.com."},"action":{"action":"truncate"}}'
got=$(dig +short @127.0.0.1 -p "$DNS_PORT" TXT tc.example.com)
[ "$got" = '"whole"' ] || fail "dig after TC=1 retry: [$got]"
flags=$(dig +ignore +noedns @127.0.0.1 -p "$DNS_PORT" TXT tc.example.com | grep '^;; flags:')
echo "$flags" | grep -qw tc || fail "dig +ignore shows no tc flag: [$flags]"
dig +ignore @127.0.0.1 -p "$DNS_PORT" TXT tc.example.com | grep -q 'ANSWER: 0' ||
    fail "truncated UDP answer carries records"
got=$(kdig +short @127.0.0.1 -p "$DNS_PORT" TXT tc.example.com | grep -v '^;;' | sed '/^$/d')
[ "$got" = '"whole"' ] || fail "kdig after TC=1 retry: [$got]"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed; dnsmock log:"; tail -20 "$WORK/err"
    exit 1
fi
echo "PASS: dig, drill and kdig agree with the records set through the API"
