#!/usr/bin/env bash
# Containers per second and client CPU per container: stevedore's launcher
# (examples/launch) against the docker CLI (`xargs -P N docker run --rm`),
# same image, same command, same daemon, same run, at several concurrencies.
#
#   benches/containers.sh            # 60 containers at 1, 4, 8, 16
#   COUNT=120 LEVELS="8 16" benches/containers.sh
#   benches/containers.sh warm       # warm pools: 100 jobs of `true`, P=8
#
# `warm` compares, side by side in one run, `xargs -P 8 docker run --rm`,
# `xargs -P 8 docker exec` round-robin into 8 containers started
# beforehand (their start-up not timed), the launcher in run mode, and in
# warm mode (`--warm 8`, start-up of its containers included); then warm
# mode's marginal rate once warm: (3N − N jobs) / (T(3N) − T(N)).
#
# Wall time is the whole command for both sides (the launcher's includes
# its start-up, connection and image check). Client CPU is user+sys of the
# client processes only (the launcher; every docker CLI process), not of
# the daemon. Machine CPU is every core's busy time over the run (daemon,
# containerd, shims, runc, storage driver and client together), per
# container: when it times the container count matches the cores times the
# wall time, the machine is saturated and the daemon side is the bound.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
count="${COUNT:-60}"
levels="${LEVELS:-1 4 8 16}"

command -v docker >/dev/null || { echo "the docker CLI is needed for the comparison" >&2; exit 1; }
(cd "$root" && cargo build --quiet --release --example launch)
launch="$root/target/release/examples/launch"
# Without --image the launcher imports the project's minimal image; both
# sides then run that same image.
"$launch" --count 1 --concurrency 1 --network none >/dev/null 2>&1 || true
image="${IMAGE:-$(docker image ls stevedore/minimal --format '{{.Repository}}:{{.Tag}}' | head -1)}"
[ -n "$image" ] || { echo "no stevedore/minimal image: the launcher could not import it" >&2; exit 1; }

busy() { # busy jiffies of the whole machine since boot
  awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat
}
hz=$(getconf CLK_TCK)

measure() { # prints "wall user sys machine" (seconds) of the command
  local out b0 b1
  b0=$(busy)
  out=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>&1 )
  b1=$(busy)
  echo "$(echo "$out" | tail -1) $(awk -v d=$((b1 - b0)) -v hz="$hz" 'BEGIN{printf "%.3f", d/hz}')"
}

if [ "${1:-}" = warm ]; then
  n="${COUNT:-100}"; p="${P:-8}"
  wfmt='%-34s %5s %8s %8s %12s %14s\n'
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  printf "$wfmt" "" "jobs" "wall s" "jobs/s" "client ms/j" "machine ms/j"
  row() { # name jobs wall user sys machine
    printf "$wfmt" "$1" "$2" "$3" "$(awk -v n="$2" -v w="$3" 'BEGIN{printf "%.2f", n/w}')" \
      "$(awk -v n="$2" -v u="$4" -v s="$5" 'BEGIN{printf "%.2f", (u+s)*1000/n}')" \
      "$(awk -v n="$2" -v m="$6" 'BEGIN{printf "%.0f", m*1000/n}')"
  }
  read -r w u s m < <(measure bash -c "seq $n | xargs -P $p -I{} docker run --rm --network none $image true")
  row "xargs -P $p docker run --rm" "$n" "$w" "$u" "$s" "$m"; cli_run=$(awk -v n="$n" -v w="$w" 'BEGIN{print n/w}')
  tag="stevedore-bench-$$"
  names=()
  for i in $(seq "$p"); do
    names+=("$(docker run -d --label "$tag=1" --network none "$image" sleep 2147483647)")
  done
  for i in $(seq "$n"); do echo "${names[i % p]}"; done > "/tmp/$tag.list"
  read -r w u s m < <(measure bash -c "xargs -P $p -I{} docker exec {} true < /tmp/$tag.list")
  row "xargs -P $p docker exec (warm)" "$n" "$w" "$u" "$s" "$m"; cli_exec=$(awk -v n="$n" -v w="$w" 'BEGIN{print n/w}')
  docker rm -f "${names[@]}" >/dev/null; rm -f "/tmp/$tag.list"
  read -r w u s m < <(measure "$launch" --image "$image" --count "$n" --concurrency "$p" --network none --cmd true)
  row "launcher, run mode" "$n" "$w" "$u" "$s" "$m"; sd_run=$(awk -v n="$n" -v w="$w" 'BEGIN{print n/w}')
  read -r w u s m < <(measure "$launch" --image "$image" --count "$n" --warm "$p" --network none --cmd true)
  row "launcher, --warm $p (start-up incl.)" "$n" "$w" "$u" "$s" "$m"; sd_warm=$(awk -v n="$n" -v w="$w" 'BEGIN{print n/w}')
  read -r w3 u3 s3 m3 < <(measure "$launch" --image "$image" --count $((3 * n)) --warm "$p" --network none --cmd true)
  row "launcher, --warm $p, $((3 * n)) jobs" "$((3 * n))" "$w3" "$u3" "$s3" "$m3"
  marginal=$(awk -v n="$n" -v a="$w" -v b="$w3" 'BEGIN{printf "%.2f", 2*n/(b-a)}')
  echo
  echo "warm / run mode: $(awk -v a="$sd_warm" -v b="$sd_run" 'BEGIN{printf "%.2f", a/b}')x (goal >= 3)"
  echo "warm once warm (marginal, $((2 * n)) jobs): $marginal jobs/s (goal >= 40)"
  echo "warm / xargs docker exec: $(awk -v a="$sd_warm" -v b="$cli_exec" 'BEGIN{printf "%.2f", a/b}')x with its start-up, $(awk -v a="$marginal" -v b="$cli_exec" 'BEGIN{printf "%.2f", a/b}')x once warm (goal >= 1.5)"
  echo "xargs docker run: $(awk -v a="$cli_run" 'BEGIN{printf "%.2f", a}') jobs/s"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi

fmt='%-12s %5s %10s %12s %14s %10s %12s %14s %8s\n'
printf "$fmt" "" "" "stevedore" "" "" "docker CLI" "" "" "ratio"
printf "$fmt" "concurrency" "n" "ctr/s" "client ms" "machine ms" "ctr/s" "client ms" "machine ms" "thrpt"
best_cli=0; best_sd=0
for c in $levels; do
  read -r w u s m < <(measure "$launch" --image "$image" --count "$count" --concurrency "$c" --network none --cmd true)
  sd_rate=$(awk -v n="$count" -v w="$w" 'BEGIN{printf "%.2f", n/w}')
  sd_cpu=$(awk -v n="$count" -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", (u+s)*1000/n}')
  sd_mach=$(awk -v n="$count" -v m="$m" 'BEGIN{printf "%.0f", m*1000/n}')
  read -r w u s m < <(measure bash -c "seq $count | xargs -P $c -I{} docker run --rm --network none $image true")
  cli_rate=$(awk -v n="$count" -v w="$w" 'BEGIN{printf "%.2f", n/w}')
  cli_cpu=$(awk -v n="$count" -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", (u+s)*1000/n}')
  cli_mach=$(awk -v n="$count" -v m="$m" 'BEGIN{printf "%.0f", m*1000/n}')
  ratio=$(awk -v a="$sd_rate" -v b="$cli_rate" 'BEGIN{printf "%.2f", a/b}')
  printf "$fmt" "$c" "$count" "$sd_rate" "$sd_cpu" "$sd_mach" "$cli_rate" "$cli_cpu" "$cli_mach" "${ratio}x"
  best_cli=$(awk -v a="$best_cli" -v b="$cli_rate" 'BEGIN{print (b>a)?b:a}')
  best_sd=$(awk -v a="$best_sd" -v b="$sd_rate" 'BEGIN{print (b>a)?b:a}')
done
echo
echo "best: stevedore $best_sd ctr/s, docker CLI $best_cli ctr/s, ratio $(awk -v a="$best_sd" -v b="$best_cli" 'BEGIN{printf "%.2f", a/b}')x"
