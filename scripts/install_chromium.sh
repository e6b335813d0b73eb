#!/usr/bin/env bash
# Make sure Debian's chromium is present for the book's browser test.
# The test drives it through playwright with executable_path; playwright's own browser
# downloads are never used. Installs with apt-get only when running as root.
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [[ -x "$CHROMIUM" ]]; then
    exit 0
fi
if [[ "$(id -u)" != "0" ]]; then
    echo "install_chromium: $CHROMIUM is missing and this is not root." >&2
    echo "  Install it with:  sudo apt-get update && sudo apt-get install -y chromium" >&2
    echo "  (or set CHROMIUM=/path/to/chromium)" >&2
    exit 1
fi
echo "install_chromium: installing chromium with apt-get"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
test -x "$CHROMIUM" || { echo "install_chromium: apt-get ran but $CHROMIUM is still missing" >&2; exit 1; }
