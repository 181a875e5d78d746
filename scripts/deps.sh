#!/usr/bin/env bash
# Installs the Debian 12 packages Escort needs, when missing.
# Usage: scripts/deps.sh [--run | --player]    (as root, or with sudo available)
#   --run   only what building and running needs (scripts/demo.sh): the
#           compiler, the libraries (hiredis among them: escort-proxy's
#           Registry), OpenSSH (the demo's target) and python3
#   (none)  also what the tests need: clang for the fuzzers, cmocka, other
#           SSH clients and servers to test against, sudo and tlog (baselines
#           of `make bench`), ssh-audit, tmux, rsync and sshfs (clients the
#           USER#TARGET form is tested with), oathtool (TOTP codes), haproxy
#           (the load balancer sending the PROXY protocol), redis-server (the
#           live-session registry several proxies share), Ceph's monitor,
#           OSD and RADOS gateway (an S3 object store with Object Lock for the
#           recorder's ObjectStore), chromium (opens the HTML pages in the
#           tests, driven by tests/harness/browser.py); and from the npm
#           registry, pinned by version and checksum: asciinema-player (the
#           player that `escort-replay export --format html` embeds in its
#           pages), unpacked into /usr/local/share/escort/asciinema-player
#   --player  only the asciinema-player
# The npm registry's tarballs are fetched with curl (installed when missing)
# and checked against the pinned SHA-512: no npm client or Node.js is used.
# Packages that bring a server (openssh-server and tinysshd on port 22, haproxy,
# redis-server, Ceph)
# would start it and enable it for every boot: while installing, services are not
# started (policy-rc.d), and the units of servers installed here are disabled
# afterwards, so that nothing listens once this script is done.
set -euo pipefail
run=(build-essential pkg-config
     libssh-dev libuv1-dev libssl-dev libzstd-dev libvterm-dev libhiredis-dev
     libcurl4-openssl-dev
     openssh-client openssh-server openssl python3)
test=(clang libclang-rt-14-dev libcmocka-dev tmux procps iproute2
      dropbear-bin putty-tools tinysshd sudo tlog ssh-audit
      rsync sshfs oathtool asciinema haproxy redis-server chromium
      ceph-mon ceph-osd radosgw ceph-common)
# npm packages: NAME VERSION DIRECTORY SHA512 (the registry's integrity);
# unscoped names, fetched with curl (the fetch set)
npm_player="asciinema-player 3.17.0 /usr/local/share/escort/asciinema-player sha512-JbjNJmA2TLIeYNaOEja+kVSzXadKoqpIzVVmfBGNj2DmdtE/vExBCnkE8NYEcpaQcDvUYg8Ltt0urT80frACmw=="
fetch=(curl ca-certificates openssl)
case ${1:-} in
--run) pkgs=("${run[@]}") npms=() ;;
--player) pkgs=("${fetch[@]}") npms=("$npm_player") ;;
"") pkgs=("${run[@]}" "${test[@]}" "${fetch[@]}") npms=("$npm_player") ;;
*) echo "usage: scripts/deps.sh [--run | --player]" >&2; exit 2 ;;
esac
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
# Unpacks each npm package of npms (the registry's tarball, fetched with curl
# and checked against its pinned SHA-512) into its directory, unless that
# version is there.
npm_deps() {
    local spec name version dir sum tmp tgz url
    for spec in "${npms[@]}"; do
        read -r name version dir sum <<<"$spec"
        grep -qs "\"version\": \"$version\"" "$dir/package.json" && continue
        echo "deps: installing npm package $name@$version into $dir" >&2
        tmp=$(mktemp -d)
        tgz="$tmp/$name-$version.tgz"
        url="https://registry.npmjs.org/$name/-/$name-$version.tgz"
        if ! curl -fsSL --retry 3 --proto =https -o "$tgz" "$url"; then
            echo "deps: $name@$version: cannot fetch $url" >&2
            rm -rf "$tmp"
            exit 1
        fi
        if [ "sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)" != "$sum" ]; then
            echo "deps: $name@$version: the tarball's SHA-512 is not the pinned one" >&2
            rm -rf "$tmp"
            exit 1
        fi
        $SUDO rm -rf "$dir"
        $SUDO mkdir -p "$dir"
        $SUDO tar -xzf "$tgz" -C "$dir" --strip-components=1 --no-same-owner
        rm -rf "$tmp"
    done
}
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { npm_deps; exit 0; }
echo "deps: installing ${missing[*]}" >&2
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
        redis-server) units=(redis-server.service) ;;
        ceph-mon|ceph-osd|radosgw) units=(ceph-mon.target ceph-osd.target ceph-radosgw.target ceph.target) ;;
        *) continue ;;
        esac
        for u in "${units[@]}"; do
            $SUDO systemctl disable --now "$u" >/dev/null 2>&1 || true
        done
        echo "deps: $p installed for local use only: its service is left disabled" >&2
    done
fi
npm_deps
