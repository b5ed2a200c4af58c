#!/usr/bin/env bash
# The npm packages the browser tests use (axe-core, oidc-client-ts, terser, typescript), exactly as
# tests/browser/js/package-lock.json pins them; installed again only when the lock changes.
set -euo pipefail
dir="$(cd "$(dirname "$0")/../tests/browser/js" && pwd)"
stamp="$dir/node_modules/.lock-installed"
if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then exit 0; fi
command -v npm >/dev/null || { echo "npm is missing: install Node.js 20+ (apt-get install nodejs npm)" >&2; exit 1; }
echo "installing the browser tests' npm packages (axe-core, oidc-client-ts, terser, typescript)"
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
cp "$dir/package-lock.json" "$stamp"
