#!/usr/bin/env bash
# Installs the Debian 12 packages Escort needs to build, test and run, when missing.
# Usage: scripts/deps.sh            (run as root, or with sudo available)
set -euo pipefail
pkgs=(build-essential pkg-config clang libclang-rt-14-dev
      libssh-dev libuv1-dev libssl-dev libzstd-dev libvterm-dev libcmocka-dev
      openssh-client openssh-server openssl python3 tmux procps iproute2
      dropbear-bin putty-tools tinysshd sudo tlog ssh-audit)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
