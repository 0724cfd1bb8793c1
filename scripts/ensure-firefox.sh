#!/usr/bin/env bash
# The engines suite drives the system Firefox ESR over WebDriver BiDi (never a downloaded build).
# Installs Debian's firefox-esr package when it is missing and we are allowed to (root).
set -euo pipefail
browser="${FIREFOX_PATH:-/usr/bin/firefox-esr}"
if [ -x "$browser" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Firefox not found at $browser: installing the Debian package 'firefox-esr'…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firefox-esr >/dev/null
  if [ -x "$browser" ]; then exit 0; fi
  echo "Installed firefox-esr, but there is still no Firefox at $browser: check FIREFOX_PATH." >&2
  exit 1
fi
echo "Firefox not found at $browser. Install it (Debian: sudo apt-get install firefox-esr) or set FIREFOX_PATH." >&2
exit 1
