#!/usr/bin/env bash
# Installs the OpenTelemetry JavaScript SDK pinned in tests/e2e/otel/js/package-lock.json into
# DEST (a folder of the build tree; default build/otel-js), never system-wide. Called by
# `make deps`; does nothing when DEST already holds exactly this lock file's packages.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
SRC=$ROOT/tests/e2e/otel/js
DEST=$(realpath -m "${1:-$ROOT/build/otel-js}")
# Debian 12's nodejs ships npm as a package of its own; NodeSource's nodejs includes npm and
# conflicts with that package, so ask for it only when there is no npm at all.
command -v npm >/dev/null || bash "$ROOT/deploy/local/deps.sh" npm
mkdir -p "$DEST"
if [[ -d $DEST/node_modules ]] && cmp -s "$SRC/package-lock.json" "$DEST/package-lock.json"; then
  exit 0
fi
cp "$SRC/package.json" "$SRC/package-lock.json" "$DEST/"
(cd "$DEST" && npm ci --no-audit --no-fund --loglevel=error)
echo "install_js.sh: OpenTelemetry JS SDK installed in $DEST"
