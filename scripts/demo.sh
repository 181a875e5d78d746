#!/usr/bin/env bash
# Runs the whole system locally: a throwaway OpenSSH target on 127.0.0.1, the
# recorder, the proxy, a demo policy and demo keys; prints how to connect, then
# stays in the foreground until Ctrl-C, when it stops every process it started.
#
# Usage: scripts/demo.sh [DIR]      (DIR defaults to /tmp/escort-demo; reused if present)
# Stops on Ctrl-C, SIGINT or SIGTERM (also when started in the background).
# Installs only what building and running need (scripts/deps.sh --run).
# Environment: ESCORT_DEMO_PORT (proxy port, default 2222 or a free one).
set -euo pipefail
# Started in the background by a non-interactive shell, bash ignores SIGINT
# and cannot trap it: start again with SIGINT and SIGTERM at their defaults,
# so that `kill -INT` stops the demo and everything it started.
if [ -z "${ESCORT_DEMO_SIGNALS:-}" ]; then
    exec env --default-signal=INT,TERM,QUIT ESCORT_DEMO_SIGNALS=1 bash "$0" "$@"
fi
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/deps.sh --run
make -s -j"$(nproc)" programs

D=${1:-/tmp/escort-demo}
mkdir -p "$D"/{keys,store,state,target}
chmod 700 "$D"
LOGIN=$(id -un)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_busy() { python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
PY
}
PROXY_PORT=${ESCORT_DEMO_PORT:-2222}
port_busy "$PROXY_PORT" && PROXY_PORT=$(free_port)
TARGET_PORT=$(free_port)

key() { [ -f "$D/keys/$1" ] || ssh-keygen -q -t ed25519 -N '' -C "$1" -f "$D/keys/$1"; }
key target_host; key proxy_host; key ops_identity; key alice; key eve
[ -f "$D/keys/recorder.pem" ] || openssl genpkey -algorithm ed25519 -out "$D/keys/recorder.pem" 2>/dev/null
openssl pkey -in "$D/keys/recorder.pem" -pubout -out "$D/keys/recorder.pub.pem"
chmod 600 "$D"/keys/*

# The target: a real sshd on loopback that only the proxy's identity may enter.
cp "$D/keys/ops_identity.pub" "$D/target/authorized_keys"
cat > "$D/target/sshd_config" <<CFG
Port $TARGET_PORT
ListenAddress 127.0.0.1
HostKey $D/keys/target_host
PidFile $D/target/sshd.pid
AuthorizedKeysFile $D/target/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
Subsystem sftp internal-sftp
CFG

cat > "$D/recorder.conf" <<CFG
Listen unix:$D/recorder.sock
Store $D/store
SigningKey $D/keys/recorder.pem
Fsync interval 1000
CFG

cat > "$D/policy.conf" <<CFG
# Demo policy: alice is an outside technician; eve has no rule at all.
user alice {
    key "$(cut -d' ' -f1,2 "$D/keys/alice.pub")"
    attr citizenship XX
}
user eve {
    key "$(cut -d' ' -f1,2 "$D/keys/eve.pub")"
}
group technicians alice

target demo {
    address 127.0.0.1:$TARGET_PORT
    login $LOGIN
    home $(getent passwd "$LOGIN" | cut -d: -f6)
    identity $D/keys/ops_identity
    hostkey "$(cut -d' ' -f1,2 "$D/keys/target_host.pub")"
    label env demo
}

rule technicians-on-demo {
    who group:technicians
    where target:demo
    shell observe
    exec yes
    sftp both
    max-session 2h
    allow "uptime"
    allow "uname ..."
    allow "ls ..."
    allow "cat /etc/os-release"
    allow "df -h"
    allow "systemctl status *"
    deny  "rm ..."
}

expect allow alice demo "uname -a"
expect deny  alice demo "rm -rf /tmp/x"
expect deny  alice demo "uptime; rm -rf /"
CFG

cat > "$D/proxy.conf" <<CFG
Listen 127.0.0.1:$PROXY_PORT
HostKey $D/keys/proxy_host
Policy $D/policy.conf
Recorder unix:$D/recorder.sock
StateDir $D/state
Workers 2
CFG

bin/escort-policy check "$D/policy.conf"

pids=()
stop_all() {
    for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap 'stop_all; echo; echo "demo: stopped; recordings kept in $D/store"' EXIT
trap 'exit 0' INT TERM QUIT HUP

mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f "$D/target/sshd_config" 2>"$D/target.log" & pids+=($!)
bin/escort-recorder -d -f "$D/recorder.conf" 2>"$D/recorder.log" & pids+=($!)
for _ in $(seq 100); do [ -S "$D/recorder.sock" ] && break; sleep 0.05; done
[ -S "$D/recorder.sock" ] || { echo "demo: recorder did not start:"; cat "$D/recorder.log"; exit 1; }
bin/escort-proxy -d -f "$D/proxy.conf" 2>"$D/proxy.log" & pids+=($!)
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$PROXY_PORT") 2>/dev/null && break; sleep 0.05; done

SSH="ssh -o UserKnownHostsFile=$D/known_hosts -o StrictHostKeyChecking=accept-new -i $D/keys/alice -p $PROXY_PORT"
cat <<MSG

Escort demo is running (logs in $D/*.log).  Try, in another terminal:

  $SSH alice:demo@127.0.0.1                 # a recorded shell on the target
  $SSH alice:demo@127.0.0.1 uname -a        # an allowed command
  $SSH alice:demo@127.0.0.1 'uptime; rm -rf /tmp/x'   # denied: rm is not allowed
  $SSH alice@127.0.0.1                      # the targets alice may use

Then look at what was recorded:

  $ROOT/bin/escort-replay --store $D/store list
  $ROOT/bin/escort-replay --store $D/store cat ID
  $ROOT/bin/escort-replay --store $D/store verify --all --key $D/keys/recorder.pub.pem

Press Ctrl-C to stop everything.
MSG
wait "${pids[@]}"
