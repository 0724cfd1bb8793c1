#!/usr/bin/env bash
# The engines suite drives WebKitGTK's MiniBrowser through WebKitWebDriver on a virtual display
# (Xvfb), all from Debian packages (never a downloaded build). Installs webkit2gtk-driver (which
# brings MiniBrowser) and xvfb when missing and we are allowed to (root).
set -euo pipefail
driver="${WEBKIT_DRIVER_PATH:-/usr/bin/WebKitWebDriver}"
minibrowser="${MINIBROWSER_PATH:-/usr/lib/$(uname -m)-linux-gnu/webkit2gtk-4.1/MiniBrowser}"
xvfb="${XVFB_PATH:-/usr/bin/Xvfb}"
missing=()
[ -x "$driver" ] && [ -x "$minibrowser" ] || missing+=(webkit2gtk-driver)
[ -x "$xvfb" ] || missing+=(xvfb)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "WebKit tools missing: installing the Debian packages ${missing[*]}…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  if [ -x "$driver" ] && [ -x "$minibrowser" ] && [ -x "$xvfb" ]; then exit 0; fi
  echo "Installed ${missing[*]}, but WebKitWebDriver ($driver), MiniBrowser ($minibrowser) or Xvfb ($xvfb) is still missing: check the *_PATH variables." >&2
  exit 1
fi
echo "Missing ${missing[*]} (WebKitWebDriver at $driver, MiniBrowser at $minibrowser, Xvfb at $xvfb)." >&2
echo "Install them (Debian: sudo apt-get install ${missing[*]}) or set WEBKIT_DRIVER_PATH, MINIBROWSER_PATH, XVFB_PATH." >&2
exit 1
