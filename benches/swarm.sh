#!/usr/bin/env bash
# Swarm mode against the docker CLI on a single-node swarm: the launcher's
# `--swarm` (one replicated-job service, progress from its tasks, the
# containers swept) against `docker service create --mode replicated-job
# --max-concurrent P --replicas N` driven by the CLI (completion seen by
# polling `docker service ps` every 0.2 s, then `docker service rm` and
# `docker rm` of the tasks' containers, which `service rm` leaves behind —
# the same work the launcher's sweep does). Same image, same command, same
# swarm, alternating, ROUNDS times.
#
#   benches/swarm.sh                      # 100 jobs of `true`, P = 8, 3 rounds
#   COUNT=50 CONCURRENCY=4 ROUNDS=5 benches/swarm.sh
#
# The swarm is a private dockerd this script starts inside a network
# namespace it creates (never the machine's engine), manager on
# 127.0.0.1:2377 there; everything is removed on exit. Needs root, dockerd,
# iproute2 and nsenter. Wall time covers the whole command on both sides;
# machine CPU is every core's busy time over the run, per job.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
count="${COUNT:-100}"
conc="${CONCURRENCY:-8}"
rounds="${ROUNDS:-3}"

for c in docker dockerd ip nsenter; do
  command -v "$c" >/dev/null || { echo "$c is needed" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "this benchmark starts a dockerd and must run as root" >&2; exit 1; }

ns="sd-bench-swarm-$$"
dir="/tmp/stevedore-bench-swarm-$$"
sock="$dir/docker.sock"
export DOCKER_HOST="unix://$sock"
pid=""
cleanup() {
  set +e
  if [ -n "$pid" ]; then
    curl -s --max-time 30 --unix-socket "$sock" -X POST "http://d/swarm/leave?force=1" >/dev/null
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
  fi
  umount -R -l "$dir/data" "$dir/exec" 2>/dev/null
  rm -rf "$dir"
  ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT

(cd "$root" && cargo build --quiet --release --example launch)
launch="$root/target/release/examples/launch"

mkdir -p "$dir"
echo '{}' >"$dir/daemon.json"
ip netns add "$ns"
ip -n "$ns" link set lo up
# nsenter, not `ip netns exec` (which remounts /sys and hides the cgroups).
nsenter --net="/run/netns/$ns" dockerd --config-file "$dir/daemon.json" --host "$DOCKER_HOST" \
  --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
  --bridge=none --iptables=false --ip-masq=false \
  --containerd-namespace "$ns" --containerd-plugins-namespace "$ns-plugins" \
  </dev/null >"$dir/dockerd.log" 2>&1 &
pid=$!
for _ in $(seq 120); do
  curl -sf --max-time 2 --unix-socket "$sock" http://d/_ping >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "dockerd exited; see $dir/dockerd.log" >&2; cat "$dir/dockerd.log" >&2; exit 1; }
  sleep 0.5
done
docker swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null

# The launcher imports the project's minimal image (and warms up); both
# sides then run that image.
"$launch" --swarm --host "$DOCKER_HOST" --count 2 --concurrency 2 --cmd true >/dev/null 2>&1
image="$(docker image ls stevedore/minimal --format '{{.Repository}}:{{.Tag}}' | head -1)"
[ -n "$image" ] || { echo "no stevedore/minimal image on the swarm" >&2; exit 1; }

busy() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
hz=$(getconf CLK_TCK)

cli_job() { # one CLI-driven job: create, wait for every task to complete, remove
  local name="cli-$1"
  docker service create -d --quiet --name "$name" --mode replicated-job \
    --max-concurrent "$conc" --replicas "$count" --restart-condition none \
    "$image" true >/dev/null 2>&1
  while [ "$(docker service ps "$name" --format '{{.CurrentState}}' | grep -c '^Complete')" -lt "$count" ]; do
    sleep 0.2
  done
  docker service rm "$name" >/dev/null
  local ids
  ids=$(docker ps -aq --filter "label=com.docker.swarm.service.name=$name")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null
}

measure() { # prints "wall machine" (seconds) of the command
  local b0 b1 t0 t1
  b0=$(busy); t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s.%N); b1=$(busy)
  awk -v a="$t0" -v b="$t1" -v d=$((b1 - b0)) -v hz="$hz" 'BEGIN{printf "%.3f %.3f\n", b-a, d/hz}'
}

fmt='%-6s %10s %9s %12s %10s %9s %12s %8s\n'
echo "single-node swarm, $count jobs of \`true\`, max concurrent $conc, image $image"
printf "$fmt" "round" "launcher s" "jobs/s" "machine ms" "CLI s" "jobs/s" "machine ms" "ratio"
sd_sum=0; cli_sum=0
for r in $(seq "$rounds"); do
  read -r w m < <(measure "$launch" --swarm --host "$DOCKER_HOST" --image "$image" \
    --count "$count" --concurrency "$conc" --cmd true)
  sd_rate=$(awk -v n="$count" -v w="$w" 'BEGIN{printf "%.2f", n/w}')
  sd_mach=$(awk -v n="$count" -v m="$m" 'BEGIN{printf "%.0f", m*1000/n}')
  sd_w=$w
  read -r w m < <(measure cli_job "$r")
  cli_rate=$(awk -v n="$count" -v w="$w" 'BEGIN{printf "%.2f", n/w}')
  cli_mach=$(awk -v n="$count" -v m="$m" 'BEGIN{printf "%.0f", m*1000/n}')
  ratio=$(awk -v a="$sd_rate" -v b="$cli_rate" 'BEGIN{printf "%.2f", a/b}')
  printf "$fmt" "$r" "$sd_w" "$sd_rate" "$sd_mach" "$w" "$cli_rate" "$cli_mach" "${ratio}x"
  sd_sum=$(awk -v a="$sd_sum" -v b="$sd_w" 'BEGIN{print a+b}')
  cli_sum=$(awk -v a="$cli_sum" -v b="$w" 'BEGIN{print a+b}')
done
awk -v s="$sd_sum" -v c="$cli_sum" -v n="$count" -v r="$rounds" 'BEGIN{
  printf "mean: launcher %.2f jobs/s, CLI %.2f jobs/s, launcher/CLI throughput %.2fx\n", n*r/s, n*r/c, c/s }'
left=$(docker ps -aq | wc -l)
echo "containers left on the swarm: $left; services: $(docker service ls -q | wc -l)"
