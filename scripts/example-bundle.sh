#!/bin/sh
# Makes an example bundle from Debian's static busybox under ./example and
# shows skiff's view of it.
set -eu
cd "$(dirname "$0")/.."
b=example
rm -rf "$b"
mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/dev" "$b/rootfs/sys" "$b/rootfs/tmp"
cp /bin/busybox "$b/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$b/rootfs/bin/$a"
done
./skiff --version
if ./skiff --help | grep -q "^  spec "; then
	(cd "$b" && ../skiff spec)
	./skiff features >/dev/null && echo "skiff features: ok"
fi
if ./skiff --help | grep -q '^  run '; then
	# No terminal: the example must also run where stdin is not a tty (CI).
	sed -i -e 's/"sh"/"echo", "hello from a skiff container"/' \
		-e 's/"terminal": true/"terminal": false/' "$b/config.json"
	./skiff run --bundle "$b" example-$$
fi
