#!/usr/bin/env bash
# scenarios_clients.sh: the shipped scenarios against Debian's certbot, lego and uacme,
# each through `mockca run --client NAME` with the scenario's client_support command.
# Prints a table (scenario x client: PASS, FAIL, SKIP); SKIP means the scenario marks
# the client unsupported, needs a capability this mockca lacks, or the client is not
# installed. The table is informational (README "Scenarios, transcripts and diff" keeps
# the last one): the script fails only when a client that is installed FAILs a scenario
# listed in MC_SCENARIOS_MUST_PASS (space-separated, default: http-01).
# uacme 1.7.4 cannot be told which CA to trust: a wrapper runs it under `unshare -m`
# with the run's TLS root bound over the system bundle, as tests/interop/uacme.sh does,
# and UACME_HOOK serves http-01 from a webroot with python3's http.server.
# MC_SCENARIO_HOOKS names fixtures/scenarios/hooks/ (dns-01 through dnsmock's API for all
# three clients, tls-alpn-01 through ualpn for uacme), for the commands that use them.
# Env: MC_BUILD_DIR, MC_SOURCE_DIR; MC_SCENARIOS (space-separated names: run only those);
# KEEP_WORK=1 keeps the reports and client logs. Exit 0 pass, 1 fail.
set -u
BUILD=$(cd "${MC_BUILD_DIR:?MC_BUILD_DIR is not set}" && pwd)
SRC=${MC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CA_BIN="$BUILD/mockca/mockca"
MUST=${MC_SCENARIOS_MUST_PASS:-http-01}
# shellcheck source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh" # need_built
need_built "$CA_BIN"
WORK=$(mktemp -d)
if [ "${KEEP_WORK:-0}" = 1 ]; then
    trap 'echo "kept $WORK" >&2' EXIT
else
    trap 'rm -rf "$WORK"' EXIT
fi
MC_SCENARIO_HOOKS=$(cd "$SRC/fixtures/scenarios/hooks" && pwd) || exit 1
export MC_SCENARIO_HOOKS

mkdir -p "$WORK/bin" "$WORK/tmp"
if command -v uacme >/dev/null 2>&1; then
    UACME_REAL=$(command -v uacme)
    if unshare -m true 2>/dev/null; then UNSHARE="unshare -m"; else UNSHARE="unshare -r -m"; fi
    cat >"$WORK/bin/uacme" <<EOF
#!/bin/sh
exec $UNSHARE sh -c 'mount --bind "\$SSL_CERT_FILE" /etc/ssl/certs/ca-certificates.crt && exec "\$@"' sh $UACME_REAL -o "\$@"
EOF
    chmod +x "$WORK/bin/uacme"
fi
cat >"$WORK/bin/uacme-hook" <<'EOF'
#!/bin/sh
# uacme's hook: begin|done|failed TYPE IDENT TOKEN AUTH; http-01 only.
[ "$2" = http-01 ] || exit 1
case "$4" in *[!A-Za-z0-9_-]*|"") exit 1 ;; esac
www="$MOCKCA_WORKDIR/www"
d="$www/.well-known/acme-challenge"
mkdir -p "$d"
case "$1" in
begin)
    printf '%s' "$5" >"$d/$4"
    if [ ! -f "$www/.pid" ]; then
        python3 -m http.server "$MOCKCA_HTTP_PORT" --bind 127.0.0.1 --directory "$www" \
            >/dev/null 2>&1 &
        echo $! >"$www/.pid"
    fi
    i=0
    while [ $i -lt 50 ] && ! curl -sf "http://127.0.0.1:$MOCKCA_HTTP_PORT/.well-known/acme-challenge/$4" >/dev/null 2>&1; do
        sleep 0.1
        i=$((i + 1))
    done ;;
done | failed) rm -f "$d/$4" ;;
*) exit 1 ;;
esac
EOF
chmod +x "$WORK/bin/uacme-hook"
export UACME_HOOK="$WORK/bin/uacme-hook"
export PATH="$WORK/bin:$PATH"

clients="certbot lego uacme"
rows=()
bad=0
header=$(printf '| scenario |'; for c in $clients; do printf ' %s |' "$c"; done)
sep=$(printf '|---|'; for c in $clients; do printf '%s' '---|'; done)
for f in "$SRC"/fixtures/scenarios/*.json; do
    name=$(basename "$f" .json)
    if [ -n "${MC_SCENARIOS:-}" ] && ! [[ " $MC_SCENARIOS " == *" $name "* ]]; then
        continue
    fi
    row="| $name |"
    for c in $clients; do
        if ! command -v "$c" >/dev/null 2>&1; then
            row="$row SKIP |"
            continue
        fi
        # With --report-dir the runner keeps its work dir (client state, keys): under
        # TMPDIR=$WORK/tmp it goes with $WORK.
        TMPDIR="$WORK/tmp" "$CA_BIN" run --quiet --scenario "$f" --report-dir "$WORK/r/$name-$c" \
            --client "$c" >/dev/null 2>"$WORK/$name-$c.err"
        case $? in
        0) row="$row PASS |" ;;
        3) row="$row SKIP |" ;;
        *)
            row="$row FAIL |"
            for m in $MUST; do
                if [ "$m" = "$name" ]; then
                    bad=1
                    echo "FAIL: $c on $name (must pass):" >&2
                    tail -n 15 "$WORK/r/$name-$c/client.log" >&2 2>/dev/null
                fi
            done
            ;;
        esac
    done
    rows+=("$row")
done
echo "$header"
echo "$sep"
printf '%s\n' "${rows[@]}"
exit $bad
