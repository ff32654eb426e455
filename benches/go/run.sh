#!/usr/bin/env bash
# Runs the task pool in Go (goroutines, GOMAXPROCS=2) and in stevedore
# (examples/taskpool, 2 worker threads) with the same parameters, several
# times each, interleaved, and prints every run plus the median per side.
#
#   benches/go/run.sh            # P1 and P2
#   RUNS=9 benches/go/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
runs="${RUNS:-5}"

if ! command -v go >/dev/null 2>&1; then
  echo "go is not installed: apt-get install golang-go (Go >= 1.19)" >&2
  exit 1
fi
(cd "$here" && go build -o "$here/taskpool-go" taskpool.go)
(cd "$root" && cargo build --quiet --release --example taskpool)
rust="$root/target/release/examples/taskpool"

elapsed_ms() { # parses "elapsed=1.234s" or "elapsed=567.8ms" into ms
  sed -n 's/.*elapsed=\([0-9.]*\)\(ms\|s\|µs\).*/\1 \2/p' | awk '{ if ($2=="s") print $1*1000; else if ($2=="µs") print $1/1000; else print $1 }'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

compare() {
  local label="$1"; shift
  echo "== $label: $* =="
  local go_ms=() rs_ms=()
  for _ in $(seq "$runs"); do
    g=$(GOMAXPROCS=2 "$here/taskpool-go" "$@" | tail -1); echo "go:        $g"
    r=$(STEVEDORE_WORKER_THREADS=2 "$rust" "$@" | tail -1); echo "stevedore: $r"
    go_ms+=("$(echo "$g" | elapsed_ms)"); rs_ms+=("$(echo "$r" | elapsed_ms)")
  done
  gm=$(printf '%s\n' "${go_ms[@]}" | median); rm=$(printf '%s\n' "${rs_ms[@]}" | median)
  echo "median: go ${gm} ms, stevedore ${rm} ms, stevedore/go = $(awk -v a="$rm" -v b="$gm" 'BEGIN{printf "%.2f", a/b}')"
  echo
}

compare "P1" --tasks 1000000 --workers 8 --cap 1024
compare "P2" --tasks 100000 --workers 1000 --delay-us 1000 --cap 1024
