#!/usr/bin/env bash
# Fails on high or critical advisories in production dependencies. When the registry's audit
# endpoint cannot be reached (some mirrors answer 405), says so loudly instead of passing
# silently; REQUIRE_AUDIT=1 makes that fatal too.
set -uo pipefail
npm audit --omit=dev --audit-level=high && exit 0
status=$?
report=$(npm audit --omit=dev --json 2>/dev/null || true)
if [[ $report == *'"auditReportVersion"'* ]]; then
  echo "npm audit: high or critical advisories in production dependencies (listed above)" >&2
  exit "$status"
fi
echo "npm audit NOT RUN: the registry's audit endpoint could not be reached, so production dependencies were NOT checked for advisories (REQUIRE_AUDIT=1 makes this fatal)" >&2
[ -z "${REQUIRE_AUDIT:-}" ] || exit 1
exit 0
