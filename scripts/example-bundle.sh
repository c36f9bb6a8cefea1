#!/bin/sh
# Makes an example bundle from Debian's static busybox under ./example and
# shows skiff's view of it.
set -eu
cd "$(dirname "$0")/.."
b=example
rm -rf "$b"
mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/dev" "$b/rootfs/sys" "$b/rootfs/tmp"
cp /bin/busybox "$b/rootfs/bin/busybox"
"$b/rootfs/bin/busybox" --install -s "$b/rootfs/bin"
./skiff --version
if ./skiff --help | grep -q "^  spec "; then
	(cd "$b" && ../skiff spec)
	./skiff features >/dev/null && echo "skiff features: ok"
fi
if ./skiff --help | grep -q '^  run '; then
	sed -i 's/"sh"/"echo", "hello from a skiff container"/' "$b/config.json"
	./skiff run --bundle "$b" example-$$
fi
