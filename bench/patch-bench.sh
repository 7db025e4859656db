#!/usr/bin/env bash
# Measures copa's whole job (pull, patch and push linux/amd64 and linux/arm64 of the
# three-platform bookworm demo image, from Trivy reports, to a local registry) against:
#
#   floor   the physical floor with system tools: download the same .debs (curl), unpack them
#           (dpkg-deb) and gzip one layer per platform (tar | gzip -6), platforms in parallel;
#   docker  the BuildKit way: per platform, `docker build` of a Dockerfile running
#           `apt-get install --only-upgrade` for the same packages (arm64 under QEMU), then
#           `docker push`, with the Docker engine of Debian's docker.io package.
#
# copa runs with both reports three times: cold (empty cache), with the repository indexes cached
# but no package (the floor's work), and warm (the cache the cold run filled); then once per
# platform with an empty cache, to compare with docker platform by platform.
# Prints wall times, ratios, package downloads, CPU time and copa's peak memory.
#
# Usage: bench/patch-bench.sh [--no-docker]
set -euo pipefail
cd "$(dirname "$0")/.."

with_docker=true
[ "${1:-}" = "--no-docker" ] && with_docker=false

for tool in docker-registry skopeo curl dpkg-deb gzip /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "error: $tool is needed (scripts/test.sh installs it)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/patch-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  done
  # dockerd leaves its network namespace mounted under its exec root.
  umount "$work/docker/exec/netns/default" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
elapsed() { node -e 'console.log((process.argv[2] - process.argv[1]).toFixed(2))' "$1" "$2"; }
ratio() { node -e 'console.log((process.argv[1] / process.argv[2]).toFixed(2))' "$1" "$2"; }

# copa is measured compiled, as it is installed, not through the TypeScript loader.
echo "compiling copa" >&2
mkdir -p "$work/copa"
npx tsc -p tsconfig.build.json --outDir "$work/copa/dist"
ln -s "$PWD/node_modules" "$PWD/package.json" "$work/copa/"
copa_js="$work/copa/dist/cli/main.js"

# A private registry on a free loopback port.
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
host="127.0.0.1:$port"
mkdir -p "$work/registry"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
  "$work/registry" "$host" >"$work/registry.yml"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -fsS "http://$host/v2/" >/dev/null 2>&1 && break; sleep 0.2; done

echo "preparing the image and reports (cached after the first run)" >&2
node --import tsx scripts/build-demo-image.ts --push "$host/demo/debian:bookworm" \
  --reports "$work/reports" --report-platforms linux/amd64,linux/arm64 >"$work/layout.json"
for arch in amd64 arm64; do
  mkdir -p "$work/reports-$arch"
  cp "$work/reports/linux-$arch.json" "$work/reports-$arch/"
done

# One copa run: name, report folder, cache folder. --debug logs every request, so a run can be
# checked for package downloads; it keeps the working folder, which lives under $work.
declare -A wall
run_copa() {
  local name=$1 reports=$2 cache=$3
  mkdir -p "$work/wf-$name"
  echo "copa: $name" >&2
  local t0 t1
  t0=$(now)
  XDG_CACHE_HOME=$cache /usr/bin/time -v -o "$work/time-$name.txt" \
    node "$copa_js" --debug patch -i "$host/demo/debian:bookworm" -r "$reports" \
    --tag "$name" --push --progress plain -w "$work/wf-$name" \
    >"$work/copa-$name.out" 2>"$work/copa-$name.err" ||
    { cat "$work/copa-$name.err" >&2; exit 1; }
  t1=$(now)
  wall[$name]=$(elapsed "$t0" "$t1")
}
debs() { grep -c 'debug: .*GET ".*\.deb"' "$work/copa-$1.err" || true; }
peak_mib() { awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$work/time-$1.txt"; }
cpu_s() {
  awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.1f", u + s}' "$work/time-$1.txt"
}

run_copa cold "$work/reports" "$work/cache"
# The floor's work exactly: the repository indexes are known, the packages are not. Indexes
# change rarely (bookworm's main one at point releases), packages with every security update.
cp -a "$work/cache" "$work/cache-debs"
rm -rf "$work/cache-debs/copa/debs"
run_copa new-debs "$work/reports" "$work/cache-debs"
run_copa warm "$work/reports" "$work/cache"
run_copa cold-amd64 "$work/reports-amd64" "$work/cache-amd64"
run_copa cold-arm64 "$work/reports-arm64" "$work/cache-arm64"

# The floor: the same .debs, fetched, unpacked and gzipped into one layer per platform.
security=$(awk '/^URIs:/ {u=$2} /^Suites:.*bookworm-security/ {print u; exit}' \
  /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$security" ] || security=$(awk '$1=="deb" && $3=="bookworm-security" {print $2; exit}' /etc/apt/sources.list)
cache=${COPA_TEST_CACHE:-/var/cache/copa-test}/debian
floor_platform() {
  local arch=$1 report=$2 dir="$work/floor-$1"
  mkdir -p "$dir/debs" "$dir/root"
  node -e '
    const fs = require("fs");
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const want = new Set((r.Results?.[0]?.Vulnerabilities ?? []).map((v) => `${v.PkgName} ${v.FixedVersion}`));
    for (const p of fs.readFileSync(process.argv[2], "utf8").split("\n\n")) {
      const f = (k) => new RegExp(`^${k}: (.*)$`, "m").exec(p)?.[1];
      if (want.has(`${f("Package")} ${f("Version")}`)) console.log(f("Filename"));
    }
  ' "$report" "$cache/bookworm-security-$arch-Packages" |
    sort -u | while read -r file; do
    curl -fsS -o "$dir/debs/$(basename "$file")" "$security/$file"
  done
  for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
  tar -C "$dir/root" --sort=name -cf - . | gzip -6 >"$dir/layer.tar.gz"
}
echo "floor: download, unpack, gzip with system tools" >&2
t0=$(now)
floor_platform amd64 "$work/reports/linux-amd64.json" &
f1=$!
floor_platform arm64 "$work/reports/linux-arm64.json" &
f2=$!
wait "$f1" "$f2"
t1=$(now)
floor=$(elapsed "$t0" "$t1")

# docker build and push, one platform after the other, when a daemon can run here. The engine
# of Debian's docker.io package is used with its built-in BuildKit.
declare -A docker_wall
if $with_docker && [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ]; then
  mkdir -p "$work/docker"
  /usr/sbin/dockerd --iptables=false --bridge=none --data-root "$work/docker/root" \
    --exec-root "$work/docker/exec" --pidfile "$work/docker/pid" \
    --host "unix://$work/docker/sock" >"$work/docker/log" 2>&1 &
  pids+=($!)
  export DOCKER_HOST="unix://$work/docker/sock" DOCKER_BUILDKIT=1
  for _ in $(seq 100); do /usr/bin/docker info >/dev/null 2>&1 && break; sleep 0.2; done
  if /usr/bin/docker info >/dev/null 2>&1; then
    for arch in amd64 arm64; do
      names=$(node -e 'const r=require(process.argv[1]);console.log([...new Set((r.Results?.[0]?.Vulnerabilities??[]).map(v=>v.PkgName))].join(" "))' "$work/reports/linux-$arch.json")
      mkdir -p "$work/docker-$arch"
      printf 'FROM %s/demo/debian:bookworm\nRUN apt-get update && apt-get install -y --only-upgrade %s && rm -rf /var/lib/apt/lists/*\n' \
        "$host" "$names" >"$work/docker-$arch/Dockerfile"
      echo "docker build and push: linux/$arch" >&2
      t0=$(now)
      if timeout 1800 /usr/bin/docker build -q --network host --platform "linux/$arch" \
        -t "$host/bench/docker:$arch" "$work/docker-$arch" >"$work/docker-$arch/log" 2>&1 &&
        /usr/bin/docker push -q "$host/bench/docker:$arch" >>"$work/docker-$arch/log" 2>&1; then
        t1=$(now)
        docker_wall[$arch]=$(elapsed "$t0" "$t1")
      else
        echo "docker build failed for linux/$arch:" >&2
        tail -5 "$work/docker-$arch/log" >&2
      fi
    done
  else
    echo "dockerd did not start here; skipping docker build" >&2
  fi
fi

echo
printf '%-52s %8s %8s %10s %9s\n' "job" "wall s" "ratio" "CPU s" "peak MiB"
printf '%-52s %8s %8s\n' "floor, both platforms" "$floor" "1.00"
for run in "cold:cold cache" "new-debs:indexes cached, packages not" "warm:warm cache"; do
  name=${run%%:*}
  printf '%-52s %8s %8s %10s %9s\n' "copa, both platforms, ${run#*:}" "${wall[$name]}" \
    "$(ratio "${wall[$name]}" "$floor")" "$(cpu_s "$name")" "$(peak_mib "$name")"
done
echo "(ratio: to the floor)"
echo
printf '%-52s %8s %8s %10s %9s\n' "per platform" "wall s" "ratio" "CPU s" "peak MiB"
for arch in amd64 arm64; do
  name=cold-$arch
  printf '%-52s %8s %8s %10s %9s\n' "copa linux/$arch, cold cache" "${wall[$name]}" "-" \
    "$(cpu_s "$name")" "$(peak_mib "$name")"
  if [ -n "${docker_wall[$arch]:-}" ]; then
    printf '%-52s %8s %8s\n' "docker build + push linux/$arch" "${docker_wall[$arch]}" \
      "$(ratio "${docker_wall[$arch]}" "${wall[$name]}")"
  fi
done
echo "(ratio: docker's wall time over copa's; arm64 is emulated for docker)"
printf '\npackages downloaded: cold %s, indexes cached %s, warm %s\n' \
  "$(debs cold)" "$(debs new-debs)" "$(debs warm)"
