#!/usr/bin/env bash
# Debian packages the tests use: chromium (browser/accessibility tests) and postgresql
# (run-storage test). Installed only when missing and only when we can (root + apt).
set -uo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v pg_ctlcluster >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: cannot install ${need[*]} (need root and apt-get); those tests will be skipped" >&2
  exit 0
fi
echo "installing Debian packages: ${need[*]}"
apt-get update -qq >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 \
  || echo "note: apt-get install ${need[*]} failed; those tests will be skipped" >&2
exit 0
