#!/usr/bin/env bash
# Installs reload-doctor for the action's next step, in the runner's temporary directory: the
# version the action was released with, unless the "version" input names another (or a .tgz).
set -euo pipefail
spec=${RD_VERSION:-}
if [ -z "$spec" ]; then
  spec="reload-doctor@$(node -p 'require(process.argv[1]).version' "$GITHUB_ACTION_PATH/package.json")"
elif [[ "$spec" != *.tgz ]]; then
  spec="reload-doctor@$spec"
fi
prefix="${RUNNER_TEMP:?RUNNER_TEMP is not set}/reload-doctor"
mkdir -p "$prefix"
npm install --prefix "$prefix" --omit=dev --no-audit --no-fund --no-save --loglevel=error -- "$spec" >&2
echo "reload-doctor $(node "$prefix/node_modules/reload-doctor/dist/cli.js" --version) installed" >&2
