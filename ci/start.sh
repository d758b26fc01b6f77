#!/usr/bin/env bash
# The one command that installs, builds and starts the suite on its defaults (README,
# "Start the suite"). Runs in the foreground; Ctrl-C stops it.
# The suite is mockca with its embedded dnsmock: ACME directory https://127.0.0.1:14000/dir,
# management https://127.0.0.1:15000, DNS 127.0.0.1:8053 (UDP and TCP), the dnsmock's
# challtestsrv API http://127.0.0.1:8055. mockca prints these and the path of the TLS root
# file to trust (mockca --help lists every option; extra arguments are passed to it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
bash ci/build.sh build
exec ./build/mockca/mockca "$@"
