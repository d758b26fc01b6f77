#!/usr/bin/env bash
# Installs every Debian package the build, the tests, the interop tests and the
# benchmarks need. Idempotent: packages already present are not fetched again, and
# `apt-get update` runs only when something is missing.
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config
  libssl-dev libmicrohttpd-dev libcjson-dev libldns-dev libcurl4-openssl-dev check
  libzip-dev                        # CertCentral zip download formats
  clang libclang-rt-14-dev          # libFuzzer and sanitizer runtimes
)
tool_pkgs=(
  openssl curl ca-certificates
  dnsutils ldnsutils knot-dnsutils  # dig, nsupdate, drill, kdig
  dnsperf                           # tests/bench
  pebble                            # pebble and pebble-challtestsrv (interop and bench peers)
  procps                            # ps, for resident-memory figures
  python3                           # interop scripts: free-port picking for third-party servers
  xxd                               # interop scripts: binary DNS messages for DoH
  certbot lego uacme                # interop peers for mockca (tests/interop/{certbot,lego,uacme}.sh)
  util-linux mount                  # unshare, mount: uacme.sh bind-mounts mockca's TLS root
  chromium                          # tests/interop/report_html_chromium.sh: headless HTML report check
)

missing=()
for p in "${build_pkgs[@]}" "${tool_pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#build_pkgs[@]} build and ${#tool_pkgs[@]} tool packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
