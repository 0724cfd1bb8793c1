#!/usr/bin/env bash
# The unit tests run the store and server suites on PostgreSQL too, on a throwaway cluster the
# test run starts itself (demo-server/testing/postgres.ts) from the server binaries (initdb,
# pg_ctl). Installs Debian's postgresql package when they are missing and we are allowed to
# (root). A server named by PIN_WIDGETS_TEST_DATABASE_URL needs no binaries here.
set -euo pipefail
has_server() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null
}
if [ -n "${PIN_WIDGETS_TEST_DATABASE_URL:-}" ] || has_server; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "PostgreSQL (initdb) not found: installing the Debian package 'postgresql'…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  # The package may create and start a cluster of its own: the tests never use it, so it is
  # not left running.
  if command -v pg_lsclusters >/dev/null; then
    pg_lsclusters --no-header | while read -r version cluster _port status _rest; do
      if [ "$status" = online ]; then pg_ctlcluster "$version" "$cluster" stop || true; fi
    done
  fi
  if has_server; then exit 0; fi
  echo "The 'postgresql' package is installed but no initdb was found under /usr/lib/postgresql/*/bin." >&2
  exit 1
fi
echo "PostgreSQL not found (no initdb under /usr/lib/postgresql/*/bin or on PATH). Install the server (Debian: sudo apt-get install postgresql) or set PIN_WIDGETS_TEST_DATABASE_URL to a server the tests may create schemas on." >&2
exit 1
