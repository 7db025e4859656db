#!/usr/bin/env bash
# Measures copa's whole job (patch amd64 and arm64 of the three-platform bookworm demo image from
# Trivy reports, push the result to a local registry) against:
#
#   floor   the physical floor with system tools: download the same .debs (curl), unpack them
#           (dpkg-deb) and gzip one layer per platform (tar | gzip -6), platforms in parallel;
#   docker  a BuildKit-style rebuild, `docker build` with `apt-get install --only-upgrade` per
#           platform (arm64 under QEMU), when docker.io is installed and dockerd can start here.
#
# copa runs twice: cold (empty package cache) and warm (cache filled by the cold run). Prints wall
# times, the ratios to the floor and copa's peak memory (/usr/bin/time -v).
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

# copa, cold and warm.
# --debug logs every request, so the warm run can be checked for package downloads; it keeps the
# working folder, which lives under $work.
run_copa() {
  local tag=$1 cache=$2
  mkdir -p "$work/wf-$tag"
  XDG_CACHE_HOME=$cache /usr/bin/time -v -o "$work/time-$tag.txt" \
    node bin/copa.js --debug patch -i "$host/demo/debian:bookworm" -r "$work/reports" \
    --tag "$tag" --push --progress plain -w "$work/wf-$tag" \
    >"$work/copa-$tag.out" 2>"$work/copa-$tag.err" ||
    { cat "$work/copa-$tag.err" >&2; exit 1; }
}
echo "copa, cold cache" >&2
t0=$(now); run_copa bench-cold "$work/cache"; t1=$(now)
copa_cold=$(elapsed "$t0" "$t1")
echo "copa, warm cache" >&2
t0=$(now); run_copa bench-warm "$work/cache"; t1=$(now)
copa_warm=$(elapsed "$t0" "$t1")
# A warm re-run must not download any package again: the .deb cache holds every file it needs.
cold_debs=$(grep -c 'debug: .*GET ".*\.deb"' "$work/copa-bench-cold.err" || true)
warm_debs=$(grep -c 'debug: .*GET ".*\.deb"' "$work/copa-bench-warm.err" || true)
peak_mib() { awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$work/time-$1.txt"; }


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

# docker build, when a daemon can run here.
docker_time=
if $with_docker && command -v dockerd >/dev/null && command -v docker >/dev/null; then
  mkdir -p "$work/docker"
  dockerd --iptables=false --bridge=none --data-root "$work/docker/root" \
    --exec-root "$work/docker/exec" --pidfile "$work/docker/pid" \
    --host "unix://$work/docker/sock" >"$work/docker/log" 2>&1 &
  pids+=($!)
  export DOCKER_HOST="unix://$work/docker/sock"
  for _ in $(seq 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  if docker info >/dev/null 2>&1; then
    docker_build() {
      local platform=$1 report=$2
      local names
      names=$(node -e 'const r=require(process.argv[1]);console.log([...new Set((r.Results?.[0]?.Vulnerabilities??[]).map(v=>v.PkgName))].join(" "))' "$report")
      printf 'FROM %s/demo/debian:bookworm\nRUN apt-get update && apt-get install -y --only-upgrade %s && rm -rf /var/lib/apt/lists/*\n' \
        "$host" "$names" | timeout 1200 docker build -q --network host --platform "$platform" -t "bench:${platform//\//-}" - >/dev/null
    }
    echo "docker build with apt-get install --only-upgrade" >&2
    t0=$(now)
    docker_build linux/amd64 "$work/reports/linux-amd64.json" &
    d1=$!
    docker_build linux/arm64 "$work/reports/linux-arm64.json" &
    d2=$!
    if wait "$d1" && wait "$d2"; then t1=$(now); docker_time=$(elapsed "$t0" "$t1"); fi
  else
    echo "dockerd did not start here; skipping docker build" >&2
  fi
fi

ratio() { node -e 'console.log((process.argv[1] / process.argv[2]).toFixed(2))' "$1" "$2"; }
echo
printf '%-34s %10s %14s\n' "job (2 platforms patched)" "wall s" "ratio to floor"
printf '%-34s %10s %14s\n' "floor (curl, dpkg-deb, gzip)" "$floor" "1.00"
printf '%-34s %10s %14s\n' "copa, cold cache" "$copa_cold" "$(ratio "$copa_cold" "$floor")"
printf '%-34s %10s %14s\n' "copa, warm cache" "$copa_warm" "$(ratio "$copa_warm" "$floor")"
if [ -n "$docker_time" ]; then
  printf '%-34s %10s %14s\n' "docker build --only-upgrade" "$docker_time" "$(ratio "$docker_time" "$floor")"
fi
printf '\npackages downloaded: cold %s, warm %s\n' "$cold_debs" "$warm_debs"
printf 'copa peak memory (maximum resident set): cold %s MiB, warm %s MiB\n' \
  "$(peak_mib bench-cold)" "$(peak_mib bench-warm)"
cpu_s() { awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "user %.2f s, sys %.2f s", u, s}' "$work/time-$1.txt"; }
printf 'copa CPU: cold %s; warm %s\n' "$(cpu_s bench-cold)" "$(cpu_s bench-warm)"
