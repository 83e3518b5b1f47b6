#!/bin/sh
# What the browser tests need besides the venv: Debian's chromium (apt, when missing) and
# axe-core from the npm registry (cached under .local/). Quick when both are present.
set -eu
AXE_VERSION=4.14.1
AXE=".local/axe-core-$AXE_VERSION/axe.min.js"

if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    echo "Installing Debian's chromium for the browser tests..."
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if [ ! -f "$AXE" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "axe-core@$AXE_VERSION" >/dev/null)
    tar -xzf "$tmp/axe-core-$AXE_VERSION.tgz" -C "$tmp" package/axe.min.js
    mkdir -p "$(dirname "$AXE")"
    mv "$tmp/package/axe.min.js" "$AXE"
    rm -rf "$tmp"
fi
