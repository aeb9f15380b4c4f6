#!/usr/bin/env bash
# The dashboard's browser tests drive Debian's chromium through its chromedriver. Installs both
# through apt when they are missing and this build runs as root; otherwise says how to install them.
set -euo pipefail

# $1, $2: the build's skipTests and skipITs
if [ "${1:-false}" = "true" ] || [ "${2:-false}" = "true" ]; then
  exit 0
fi
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get > /dev/null; then
  echo "modelpress: installing chromium and chromium-driver for the dashboard's browser tests (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium chromium-driver > /dev/null
  exit 0
fi
echo "modelpress: the dashboard's browser tests need /usr/bin/chromium and /usr/bin/chromedriver;" \
  "install them with: sudo apt-get install --no-install-recommends chromium chromium-driver" \
  "(or skip those tests with -DskipITs)" >&2
exit 1
