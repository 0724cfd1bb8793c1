#!/usr/bin/env bash
# The end-to-end tests drive the system Chromium (never a downloaded browser build).
# Installs Debian's chromium package when it is missing and we are allowed to (root).
set -euo pipefail
browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$browser" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Chromium not found at $browser: installing the Debian package 'chromium'…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "Chromium not found at $browser. Install it (Debian: sudo apt-get install chromium) or set CHROMIUM_PATH." >&2
exit 1
