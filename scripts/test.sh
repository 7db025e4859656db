#!/usr/bin/env bash
# Installs what the tests need on a Debian 12 machine (as root), then runs the whole test suite.
# The tests start their own registries and package repositories on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  docker-registry skopeo umoci mmdebstrap debootstrap arch-test qemu-user-static binfmt-support
  dpkg-dev apt-utils gnupg apache2-utils openssl zstd xz-utils ca-certificates rpm docker.io
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# Foreign-architecture binaries (arm64, armhf) run under QEMU for the chroot checks.
if command -v update-binfmts >/dev/null; then
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || true
  update-binfmts --enable >/dev/null 2>&1 || true
fi

# The docker-registry package starts a registry on :5000 as a service; the tests start their own.
systemctl disable --now docker-registry >/dev/null 2>&1 || true

[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
npm run typecheck
npm run lint
npm test
