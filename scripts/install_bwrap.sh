#!/usr/bin/env bash
# Make sure bubblewrap (the grading jail) and the util-linux tools it runs (setpriv, prlimit) are
# present. Installs with apt-get only when running as root; says what to do otherwise.
set -euo pipefail

BWRAP="${BWRAP:-bwrap}"

missing=()
command -v "$BWRAP" >/dev/null 2>&1 || missing+=(bubblewrap)
for tool in setpriv prlimit; do
    command -v "$tool" >/dev/null 2>&1 || { missing+=(util-linux); break; }
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi
if [[ "$(id -u)" != "0" ]]; then
    echo "install_bwrap: the grading jail needs ${missing[*]}, and this is not root." >&2
    echo "  Install with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    echo "  (or set c.JailSettings.bwrap in nbgrader_config.py to a bwrap executable;" >&2
    echo "   SANDBOX=0 grades without the jail, with the grader's powers)" >&2
    exit 1
fi
echo "install_bwrap: installing ${missing[*]} with apt-get"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
command -v "$BWRAP" >/dev/null 2>&1 || {
    echo "install_bwrap: apt-get ran but $BWRAP is still missing" >&2; exit 1; }
