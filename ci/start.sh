#!/usr/bin/env bash
# The one command that installs, builds and starts the suite on its defaults (README,
# "Start the suite"). Runs in the foreground; Ctrl-C stops it.
# Today the suite is dnsmock (DNS on 127.0.0.1:8053, management http://127.0.0.1:8055,
# http-01 on :5002, tls-alpn-01 on :5001); mockca, which embeds dnsmock, takes over here
# once it exists.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
bash ci/build.sh build
exec ./build/dnsmock/dnsmock "$@"
