#!/usr/bin/env bash
# Installs the Debian 12 packages Escort needs, when missing.
# Usage: scripts/deps.sh [--run]    (as root, or with sudo available)
#   --run   only what building and running needs (scripts/demo.sh): the
#           compiler, the libraries, OpenSSH (the demo's target) and python3
#   (none)  also what the tests need: clang for the fuzzers, cmocka, other
#           SSH clients and servers to test against, sudo and tlog (baselines
#           of `make bench`), ssh-audit, tmux, rsync and sshfs (clients the
#           USER#TARGET form is tested with), oathtool (TOTP codes), haproxy
#           (the load balancer sending the PROXY protocol), Ceph's monitor,
#           OSD and RADOS gateway (an S3 object store with Object Lock for the
#           recorder's ObjectStore)
# Packages that bring a server (openssh-server and tinysshd on port 22, haproxy)
# would start it and enable it for every boot: while installing, services are not
# started (policy-rc.d), and the units of servers installed here are disabled
# afterwards, so that nothing listens once this script is done.
set -euo pipefail
run=(build-essential pkg-config
     libssh-dev libuv1-dev libssl-dev libzstd-dev libvterm-dev libcurl4-openssl-dev
     openssh-client openssh-server openssl python3)
test=(clang libclang-rt-14-dev libcmocka-dev tmux procps iproute2
      dropbear-bin putty-tools tinysshd sudo tlog ssh-audit
      rsync sshfs oathtool asciinema haproxy
      ceph-mon ceph-osd radosgw ceph-common)
case ${1:-} in
--run) pkgs=("${run[@]}") ;;
"") pkgs=("${run[@]}" "${test[@]}") ;;
*) echo "usage: scripts/deps.sh [--run]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
rcd=/usr/sbin/policy-rc.d own_rcd=0
if [ ! -e "$rcd" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$rcd" >/dev/null
    $SUDO chmod 755 "$rcd"
    own_rcd=1
fi
cleanup() { [ "$own_rcd" = 1 ] && $SUDO rm -f "$rcd"; true; }
trap cleanup EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ -d /run/systemd/system ]; then
    for p in "${missing[@]}"; do
        case $p in
        openssh-server) units=(ssh.service ssh.socket) ;;
        tinysshd) units=(tinysshd.socket) ;;
        dropbear-bin) units=() ;;
        haproxy) units=(haproxy.service) ;;
        ceph-mon|ceph-osd|radosgw) units=(ceph-mon.target ceph-osd.target ceph-radosgw.target ceph.target) ;;
        *) continue ;;
        esac
        for u in "${units[@]}"; do
            $SUDO systemctl disable --now "$u" >/dev/null 2>&1 || true
        done
        echo "deps: $p installed for local use only: its service is left disabled" >&2
    done
fi
