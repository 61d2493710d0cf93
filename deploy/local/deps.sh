#!/usr/bin/env bash
# `make deps`: installs the Debian packages given as arguments that are not installed yet.
# Does nothing (quickly) when all are there; otherwise one `apt-get update` and one
# `apt-get install` of the missing ones, through sudo when not root.
set -euo pipefail

(($#)) || { echo "usage: deps.sh PACKAGE..." >&2; exit 2; }

# dpkg-query prints nothing (and exits 1) for a package it has never heard of, as on a fresh
# machine, so compare against the installed set rather than looking for "not installed" lines.
installed=$({ dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$@" 2>/dev/null || true; } |
  awk '$1 == "ii" { print $2 }')
missing=()
for pkg in "$@"; do
  if ! grep -qxF -- "$pkg" <<<"$installed"; then
    missing+=("$pkg")
  fi
done
((${#missing[@]})) || exit 0

echo "deps: installing ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "deps: missing packages and neither root nor sudo available; as root run:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
# sudo drops the environment, hence env inside it.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  "${missing[@]}"
