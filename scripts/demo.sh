#!/usr/bin/env bash
# The main job of copa, from scratch, on a Debian 12 machine (as root, no Docker Hub needed):
#
#   1. installs the apt packages it needs and the npm dependencies when missing;
#   2. starts a private registry on 127.0.0.1 (own config, temporary storage, a free port),
#      stopped again when the script ends;
#   3. builds (or reuses from ${COPA_TEST_CACHE:-/var/cache/copa-test}) a three-platform Debian
#      bookworm image (linux/amd64, linux/arm64, linux/arm/v7) from the Debian archive named in
#      this host's apt sources, and pushes it as 127.0.0.1:PORT/demo/debian:bookworm;
#   4. writes Trivy reports for amd64 and arm64 naming the bookworm-security updates they lack;
#   5. runs `copa patch --report DIR --tag bookworm-patched --push` and prints the result.
#
# Usage: scripts/demo.sh [--keep]   (--keep leaves the registry running and prints its address)
set -euo pipefail
cd "$(dirname "$0")/.."

keep=false
[ "${1:-}" = "--keep" ] && keep=true

say() { printf '\n==> %s\n' "$*" >&2; }

packages=(
  docker-registry skopeo umoci mmdebstrap arch-test qemu-user-static binfmt-support
  xz-utils curl ca-certificates
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if ! command -v node >/dev/null || ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  echo "error: copa needs Node.js 20 or newer on PATH" >&2
  exit 1
fi
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund >&2

# Foreign architectures are built under QEMU user emulation.
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable >/dev/null 2>&1 || true
# The package starts a registry of its own on :5000; this demo runs a private one.
systemctl disable --now docker-registry >/dev/null 2>&1 || true

work=$(mktemp -d /tmp/copa-demo.XXXXXX)
registry_pid=
cleanup() {
  if [ -n "$registry_pid" ] && ! $keep; then kill "$registry_pid" 2>/dev/null || true; fi
  $keep || rm -rf "$work"
}
trap cleanup EXIT

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
host="127.0.0.1:$port"
mkdir -p "$work/registry"
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
  delete:
    enabled: true
http:
  addr: $host
EOF
say "starting a registry on $host"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do
  curl -fsS "http://$host/v2/" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://$host/v2/" >/dev/null || { cat "$work/registry.log" >&2; exit 1; }

say "building or reusing the three-platform bookworm image, pushing $host/demo/debian:bookworm"
node --import tsx scripts/build-demo-image.ts \
  --push "$host/demo/debian:bookworm" \
  --reports "$work/reports" --report-platforms linux/amd64,linux/arm64 >"$work/layout.json"

# The compiled CLI starts faster and uses less memory than the sources through tsx.
say "compiling copa"
npm run --silent build >&2

say "patching: copa patch -i $host/demo/debian:bookworm -r $work/reports --tag bookworm-patched --push"
start=$(date +%s.%N)
node bin/copa.js patch -i "$host/demo/debian:bookworm" -r "$work/reports" \
  --tag bookworm-patched --push -o "$work/vex.json"
end=$(date +%s.%N)

say "result ($(node -e "console.log((($end)-($start)).toFixed(1))") s)"
show_index() {
  skopeo inspect --raw --tls-verify=false "docker://$1" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      for (const m of JSON.parse(s).manifests) {
        const p = m.platform ?? {};
        console.log(`  ${[p.os, p.architecture, p.variant].filter(Boolean).join("/").padEnd(14)} ${m.digest}`);
      }
    });'
}
echo "source   $host/demo/debian:bookworm" >&2
show_index "$host/demo/debian:bookworm" >&2
echo "patched  $host/demo/debian:bookworm-patched" >&2
show_index "$host/demo/debian:bookworm-patched" >&2
if [ -f "$work/vex.json" ]; then
  # The working folder goes at exit; the VEX document is kept beside it.
  vex="${TMPDIR:-/tmp}/copa-demo-vex.json"
  cp "$work/vex.json" "$vex"
  statements=$(node -e 'console.log(require(process.argv[1]).statements.length)' "$vex")
  echo "VEX      $vex: $statements statements" >&2
fi
if $keep; then
  echo "registry $host (pid $registry_pid) left running; files in $work" >&2
fi
