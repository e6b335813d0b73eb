#!/usr/bin/env bash
# Put the mermaid library into the book's static files, so diagrams render with no network.
# The script comes from the npm registry (pinned version, integrity checked by npm) and is
# git-ignored: it is fetched once into build/ and copied into book/_static/.
set -euo pipefail

VERSION="${MERMAID_VERSION:-11.12.1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/book/_static/mermaid.min.js"
STAMP="$ROOT/build/npm/mermaid.version"
WORK="$ROOT/build/npm"

if [[ -s "$DEST" && -f "$STAMP" && "$(cat "$STAMP")" == "$VERSION" ]]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "fetch_mermaid: npm is needed to fetch mermaid@$VERSION (apt-get install npm)" >&2
    exit 1
fi

mkdir -p "$WORK" "$(dirname "$DEST")"
tarball="$WORK/mermaid-$VERSION.tgz"
if [[ ! -s "$tarball" ]]; then
    (cd "$WORK" && npm pack --silent "mermaid@$VERSION" >/dev/null)
fi
tar -xzf "$tarball" -C "$WORK" package/dist/mermaid.min.js
# Copy through a temporary name so an interrupted run never leaves a truncated script.
cp "$WORK/package/dist/mermaid.min.js" "$DEST.tmp"
mv "$DEST.tmp" "$DEST"
echo "$VERSION" > "$STAMP"
echo "fetch_mermaid: mermaid@$VERSION -> ${DEST#$ROOT/}"
