#!/usr/bin/env bash
# Installs what `make run` and `make test` need on a fresh Debian 12 / Ubuntu machine,
# and only what is missing. Safe to run again: a second run installs nothing.
set -euo pipefail

# System packages: the Tauri/WebKitGTK build deps, the real services the product and its
# tests run against (Postgres, Redis, a Secret Service keychain, CUPS with a PDF printer), and
# the tools the desktop end-to-end test drives (tesseract reads printed pages back as a person
# would: a printed PDF keeps its glyphs, not always its text).
PACKAGES=(
  build-essential pkg-config curl file mold
  libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev
  libudev-dev libcups2-dev
  postgresql postgresql-contrib redis-server redis-tools
  webkit2gtk-driver xvfb xauth x11-apps imagemagick poppler-utils librsvg2-bin
  dbus gnome-keyring cups cups-client printer-driver-cups-pdf socat tesseract-ocr tesseract-ocr-eng
  nodejs npm python3 python3-venv
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# Node.js from another source (nvm, NodeSource) counts as present.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/#nodejs/}"); missing=("${missing[@]/#npm/}")
  read -r -a missing <<<"${missing[*]}"
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian postgresql package starts a cluster service on install; the product runs its own
# cluster under .dev/ and the tests start their own, so the system one is not needed.
echo "setup: system packages ok"

# Python test tools (moto's S3 server, schemathesis) in a private virtualenv, rebuilt only when
# scripts/requirements-test.txt changes.
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.tools/py"
stamp="$venv/.requirements"
if ! cmp -s "$root/scripts/requirements-test.txt" "$stamp" 2>/dev/null; then
  echo "setup: installing Python test tools into .tools/py"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/scripts/requirements-test.txt"
  cp "$root/scripts/requirements-test.txt" "$stamp"
fi
echo "setup: Python test tools ok"

