#!/usr/bin/env bash
# Configures and builds one tree. Usage: ci/build.sh BUILD_DIR [cmake -D options...]
# Warnings are errors (MOCKCA_WERROR defaults ON).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: ci/build.sh BUILD_DIR [cmake options]}
shift
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
