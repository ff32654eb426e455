#!/usr/bin/env bash
# Runs test suites N times in a row while two busy-loop processes load the
# machine, and prints how many rounds passed. A test that fails under load
# is a defect of the test or of the code (issue 8).
#
#   scripts/stress-tests.sh nondocker [N]   # every suite but the Docker ones, and the unit tests (default N=20)
#   scripts/stress-tests.sh docker [N]      # the Docker suites (default N=5); needs DOCKER_HOST or /var/run/docker.sock
#
# Docker suites are the test files whose names contain docker, launch,
# podman, minimal_image, swarm, warm or remote. Extra arguments after N go
# to every test binary (e.g. `--test-threads 2`). Exit status: 0 only if
# every round passed. Failing rounds keep their output in $STRESS_LOGS
# (default target/stress-logs).
set -uo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
case "$mode" in
  nondocker) rounds="${2:-20}" ;;
  docker) rounds="${2:-5}" ;;
  *) echo "usage: $0 nondocker|docker [N] [test-binary args...]" >&2; exit 2 ;;
esac
shift $(( $# >= 2 ? 2 : $# ))
extra=("$@")
docker_re='docker|launch|podman|minimal_image|swarm|warm|remote'

suites=()
for f in tests/*.rs; do
  name="$(basename "$f" .rs)"
  if [[ "$name" =~ $docker_re ]]; then
    [ "$mode" = docker ] && suites+=("--test" "$name")
  else
    [ "$mode" = nondocker ] && suites+=("--test" "$name")
  fi
done
[ "$mode" = nondocker ] && suites+=("--lib")
if [ "$mode" = docker ] && [ "${#extra[@]}" -eq 0 ]; then
  extra=(--test-threads 4)
fi

logs="${STRESS_LOGS:-target/stress-logs}"
mkdir -p "$logs"

echo "building: cargo test --release ${suites[*]}"
nice -n 5 cargo test --release "${suites[@]}" --no-run -q 2>&1 | tail -n 20 || {
  echo "build failed" >&2
  exit 1
}

busy=()
stop_busy() {
  for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${busy[@]}"; do wait "$pid" 2>/dev/null; done
}
trap stop_busy EXIT
trap 'exit 130' INT TERM
for _ in 1 2; do
  ( while :; do :; done ) &
  busy+=("$!")
done
echo "load: two busy loops (pids ${busy[*]})"

passed=0
for i in $(seq 1 "$rounds"); do
  log="$logs/$mode-round-$i.log"
  started=$(date +%s)
  if cargo test --release -q "${suites[@]}" -- "${extra[@]}" >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "round $i/$rounds: pass ($(( $(date +%s) - started )) s)"
    rm -f "$log"
  else
    echo "round $i/$rounds: FAIL ($(( $(date +%s) - started )) s), log: $log"
    grep -E '^(test .* FAILED|---- .* stdout ----|failures:$)|panicked at' "$log" | head -n 20 | sed 's/^/    /'
  fi
done
echo "$mode: passed $passed/$rounds rounds under load"
[ "$passed" -eq "$rounds" ]
