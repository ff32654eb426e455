#!/usr/bin/env bash
# Client CPU per container over the three transports to one engine: the
# demo launches the same batch (N containers running `true`, minimal image,
# --network none) over the engine's Unix socket, over TLS (mutual, rustls)
# and over ssh (sshd + `docker system dial-stdio`), and `time` reports the
# client's user+system CPU — for ssh that includes the `ssh` processes the
# client runs (they are its children), not the remote's dial-stdio.
#
# The engine is a private dockerd in its own network namespace, listening
# on a Unix socket and on tcp://127.0.0.1:2376 with --tlsverify; sshd runs
# in the same namespace on 127.0.0.1:2222; the client runs there too
# (nsenter), so TLS and ssh stay on loopback end to end. Needs root,
# dockerd, openssl, openssh-server/client. Everything is removed at exit.
#
#   benches/remote.sh [N] [ROUNDS]      (default N=50, ROUNDS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
ROUNDS=${2:-3}
D=$(mktemp -d /tmp/stevedore-bench-remote.XXXXXX)
pid=""
sshd_pid=""
cleanup() {
  # sshd writes its pid file once it listens; $sshd_pid is the same process
  # (nsenter execs it).
  [ -f "$D/sshd.pid" ] && kill "$(cat "$D/sshd.pid")" 2>/dev/null || true
  [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null || true
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  umount -R -l "$D/data" 2>/dev/null || true
  umount -R -l "$D/exec" 2>/dev/null || true
  rm -rf "$D"
}
trap cleanup EXIT

[ -n "${SKIP_BUILD:-}" ] || cargo build --quiet --release --example launch
LAUNCH=$PWD/target/release/examples/launch

# Certificates: a CA, the engine's (127.0.0.1), a client's.
C=$D/certs; mkdir -p "$C"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca \
  -keyout "$C/ca-key.pem" -out "$C/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=bench-engine \
  -keyout "$C/server-key.pem" -out "$C/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$C/server.ext"
openssl x509 -req -in "$C/server.csr" -CA "$C/ca.pem" -CAkey "$C/ca-key.pem" -CAcreateserial \
  -days 2 -extfile "$C/server.ext" -out "$C/server-cert.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=bench-client \
  -keyout "$C/key.pem" -out "$C/client.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$C/client.ext"
openssl x509 -req -in "$C/client.csr" -CA "$C/ca.pem" -CAkey "$C/ca-key.pem" -CAcreateserial \
  -days 2 -extfile "$C/client.ext" -out "$C/cert.pem" 2>/dev/null

# The engine, in a namespace of its own (its loopback brought up first).
echo '{}' >"$D/daemon.json"
unshare --net sh -c 'ip link set lo up && exec dockerd "$@"' dockerd \
  --config-file "$D/daemon.json" -H "unix://$D/docker.sock" -H tcp://127.0.0.1:2376 \
  --tlsverify --tlscacert "$C/ca.pem" --tlscert "$C/server-cert.pem" --tlskey "$C/server-key.pem" \
  --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/docker.pid" \
  --bridge=none --iptables=false --ip-masq=false \
  --containerd-namespace stevedore-bench --containerd-plugins-namespace stevedore-bench-plugins \
  </dev/null >"$D/dockerd.log" 2>&1 &
pid=$!
for _ in $(seq 120); do [ -S "$D/docker.sock" ] && break; sleep 0.5; done
[ -S "$D/docker.sock" ] || { echo "dockerd did not start; see $D/dockerd.log" >&2; exit 1; }
in_ns() { nsenter --net="/proc/$pid/ns/net" "$@"; }

# sshd in the same namespace; sessions reach the engine's socket.
mkdir -p /run/sshd "$D/bin"
ssh-keygen -q -t ed25519 -N '' -f "$D/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$D/client_key"
cp "$D/client_key.pub" "$D/authorized_keys"
cat >"$D/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port 2222
HostKey $D/host_key
PidFile $D/sshd.pid
AuthorizedKeysFile $D/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
PermitRootLogin prohibit-password
SetEnv DOCKER_HOST=unix://$D/docker.sock
EOF
echo "[127.0.0.1]:2222 $(cat "$D/host_key.pub")" >"$D/known_hosts"
cat >"$D/ssh_config" <<EOF
IdentityFile $D/client_key
IdentitiesOnly yes
UserKnownHostsFile $D/known_hosts
StrictHostKeyChecking yes
EOF
# The client runs `ssh` from PATH: this one uses the bench's key.
printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$D/ssh_config" >"$D/bin/ssh"
chmod +x "$D/bin/ssh"
nsenter --net="/proc/$pid/ns/net" "$(command -v sshd || echo /usr/sbin/sshd)" -D -e -f "$D/sshd_config" 2>"$D/sshd.log" &
sshd_pid=$!
for _ in $(seq 60); do in_ns bash -c 'exec 3<>/dev/tcp/127.0.0.1/2222' 2>/dev/null && break; sleep 0.2; done

run() { # name, host, extra args...
  local name=$1 host=$2; shift 2
  in_ns env PATH="$D/bin:$PATH" DOCKER_HOST= "$LAUNCH" --host "$host" "$@" \
    --count "$N" --concurrency 8 --network none >/dev/null 2>>"$D/launch.err"
}
TLS_ARGS=(--tlsverify --tlscacert "$C/ca.pem" --tlscert "$C/cert.pem" --tlskey "$C/key.pem")
UNIX_HOST="unix://$D/docker.sock"
# Warm-up: imports the minimal image and checks every transport works.
N_SAVED=$N; N=2
run unix "$UNIX_HOST"
run tls tcp://127.0.0.1:2376 "${TLS_ARGS[@]}"
run ssh ssh://root@127.0.0.1:2222
N=$N_SAVED

printf '%-6s %12s %12s %16s\n' transport "user+sys s" "wall s" "CPU ms/container"
TIMEFORMAT='%U %S %R'
for name in unix tls ssh; do
  for r in $(seq "$ROUNDS"); do
    case $name in
      unix) t=$( { time run unix "$UNIX_HOST"; } 2>&1 ) ;;
      tls) t=$( { time run tls tcp://127.0.0.1:2376 "${TLS_ARGS[@]}"; } 2>&1 ) ;;
      ssh) t=$( { time run ssh ssh://root@127.0.0.1:2222; } 2>&1 ) ;;
    esac
    read -r u s w <<<"$(echo "$t" | tail -1)"
    awk -v n="$name" -v u="$u" -v s="$s" -v w="$w" -v c="$N" \
      'BEGIN { printf "%-6s %12.3f %12.2f %16.2f\n", n, u + s, w, (u + s) * 1000 / c }'
  done
done
