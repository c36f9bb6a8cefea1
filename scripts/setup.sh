#!/bin/sh
# The set-up on a fresh Debian 12 machine, as root: installs every build and
# test dependency, builds skiff, makes an example busybox bundle and runs it.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="build-essential autoconf automake libtool pkg-config libyajl-dev libseccomp-dev
libcap-dev libselinux1-dev libsystemd-dev busybox-static python3 python3-pytest clang clang-format libclang-rt-14-dev
runc crun strace iproute2 util-linux procps qemu-system-x86 linux-image-amd64 cpio xz-utils
apparmor containerd podman conmon time zsh fish debhelper lintian criu libprotobuf-c-dev"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure --quiet
make -j"$(nproc)" >/dev/null
make -j"$(nproc)" check TESTS= >/dev/null

./scripts/example-bundle.sh
