"""The Debian package: `dpkg-buildpackage -b -us -uc` on a copy of the tracked tree builds
skiff and skiff-dbgsym; the test checks their metadata and file list, that lintian has nothing
to say, that the binary is stripped with its symbols in the dbgsym package, and runs the
installed binary (a container included) from a throw-away root made with dpkg -x.

The build runs once per module (about a minute on two cores); every test reads its result."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import tomllib

import lib
import optiontable
from lib import TOP, WORK

_built = {}


def build():
    """Builds the packages once; returns {"dir", "deb", "dbgsym", "changes", "root"}."""
    if "error" in _built:
        raise AssertionError(_built["error"])
    if "root" in _built:
        return _built
    for tool in ("dpkg-buildpackage", "dh", "git"):
        if shutil.which(tool) is None:
            raise lib.Skip(f"{tool} is not installed (scripts/setup.sh installs debhelper)")
    if not os.path.isdir(os.path.join(TOP, ".git")) and not os.path.isfile(
            os.path.join(TOP, ".git")):
        raise lib.Skip("not a git checkout: the package is built from the tracked files")
    top = tempfile.mkdtemp(prefix="pkg-", dir=WORK)
    src = os.path.join(top, "skiff")
    files = subprocess.run(["git", "-C", TOP, "ls-files", "-z"], capture_output=True,
                           check=True, timeout=60).stdout.split(b"\0")
    os.mkdir(src)
    for f in filter(None, files):
        f = f.decode()
        if not os.path.lexists(os.path.join(TOP, f)):
            continue  # deleted in the working tree, not yet committed
        os.makedirs(os.path.join(src, os.path.dirname(f)), exist_ok=True)
        shutil.copy2(os.path.join(TOP, f), os.path.join(src, f), follow_symlinks=False)
    env = dict(os.environ, DEB_BUILD_OPTIONS="parallel=2")
    r = subprocess.run(["dpkg-buildpackage", "-b", "-us", "-uc"], cwd=src, env=env,
                       capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        _built["error"] = f"dpkg-buildpackage failed:\n{(r.stdout + r.stderr)[-3000:]}"
        raise AssertionError(_built["error"])
    debs = {f.split("_")[0]: os.path.join(top, f) for f in os.listdir(top) if f.endswith(".deb")}
    root = os.path.join(top, "root")
    for deb in debs.values():
        subprocess.run(["dpkg", "-x", deb, root], check=True, timeout=60)
    _built.update(dir=top, deb=debs.get("skiff"), dbgsym=debs.get("skiff-dbgsym"), root=root,
                  changes=[os.path.join(top, f) for f in os.listdir(top)
                           if f.endswith(".changes")][0])
    return _built


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", deb, name], capture_output=True, text=True,
                          check=True, timeout=60).stdout.strip()


def version():
    with open(os.path.join(TOP, "configure.ac")) as f:
        return re.search(r"AC_INIT\(\[skiff\], \[([^]]+)\]", f.read())[1]


def test_package_metadata():
    b = build()
    assert b["deb"] and b["dbgsym"], os.listdir(b["dir"])
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True, timeout=60).stdout.strip()
    assert field(b["deb"], "Package") == "skiff"
    assert field(b["deb"], "Version") == version(), "debian/changelog and configure.ac differ"
    assert field(b["deb"], "Architecture") == arch
    depends = field(b["deb"], "Depends")
    for lib_pkg in ("libc6", "libseccomp2", "libyajl2"):
        assert lib_pkg in depends, depends
    assert field(b["dbgsym"], "Package") == "skiff-dbgsym"


def test_package_file_list():
    b = build()
    listing = subprocess.run(["dpkg-deb", "-c", b["deb"]], capture_output=True, text=True,
                             check=True, timeout=60).stdout
    files = {line.split()[-1].lstrip(".") for line in listing.splitlines()
             if not line.startswith("d")}
    pages = {"/usr/share/man/man8/skiff.8.gz"} | {
        f"/usr/share/man/man8/skiff-{name}.8.gz" for name, _ in optiontable.commands()}
    want = pages | {
        "/usr/bin/skiff",
        "/usr/share/bash-completion/completions/skiff",
        "/usr/share/zsh/vendor-completions/_skiff",
        "/usr/share/fish/vendor_completions.d/skiff.fish",
        "/usr/share/doc/skiff/examples/containerd.toml",
        "/usr/share/doc/skiff/examples/containers.conf",
        "/usr/share/doc/skiff/README.md.gz",
        "/usr/share/doc/skiff/changelog.gz",
        "/usr/share/doc/skiff/copyright",
    }
    assert files == want, {"missing": want - files, "unexpected": files - want}
    # the installed manual and completions are the tree's and the binary's own
    root = b["root"]
    for page in pages:
        name = os.path.basename(page)[:-3]
        got = subprocess.run(["gzip", "-dc", root + page], capture_output=True,
                             check=True, timeout=60).stdout
        with open(os.path.join(TOP, "man", name), "rb") as f:
            assert got == f.read(), name
    for shell, path in (("bash", "bash-completion/completions/skiff"),
                        ("zsh", "zsh/vendor-completions/_skiff"),
                        ("fish", "fish/vendor_completions.d/skiff.fish")):
        gen = subprocess.run([root + "/usr/bin/skiff", "__completion", shell],
                             capture_output=True, check=True, timeout=60).stdout
        with open(f"{root}/usr/share/{path}", "rb") as f:
            assert f.read() == gen, shell


def test_binary_is_stripped_with_symbols_in_dbgsym():
    b = build()
    binary = b["root"] + "/usr/bin/skiff"
    sections = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True,
                              check=True, timeout=60).stdout
    assert ".symtab" not in sections and ".debug_info" not in sections, sections
    assert ".gnu_debuglink" in sections
    notes = subprocess.run(["readelf", "-n", binary], capture_output=True, text=True,
                           check=True, timeout=60).stdout
    build_id = re.search(r"Build ID: ([0-9a-f]+)", notes)[1]
    debug = f"{b['root']}/usr/lib/debug/.build-id/{build_id[:2]}/{build_id[2:]}.debug"
    assert os.path.isfile(debug), f"no {debug} in skiff-dbgsym"
    sections = subprocess.run(["readelf", "-SW", debug], capture_output=True, text=True,
                              check=True, timeout=60).stdout
    assert ".debug_info" in sections and ".symtab" in sections


def test_make_install_strip_installs_a_stripped_binary():
    """`make install-strip` from the built tree: a stripped binary that runs.  Its size
    against crun's is a measurement (bench/run.py's size row), not a pass/fail."""
    if not os.path.isfile(os.path.join(TOP, "Makefile")):
        raise lib.Skip("the tree is not configured (./configure makes the Makefile)")
    dest = tempfile.mkdtemp(prefix="install-", dir=WORK)
    subprocess.run(["make", "-C", TOP, "install-strip", f"DESTDIR={dest}", "prefix=/usr"],
                   capture_output=True, check=True, timeout=600)
    binary = dest + "/usr/bin/skiff"
    sections = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True,
                              check=True, timeout=60).stdout
    assert ".symtab" not in sections and ".debug_info" not in sections, sections
    # It runs.
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    assert out.startswith("skiff version"), out


def test_lintian_is_clean():
    b = build()
    if shutil.which("lintian") is None:
        raise lib.Skip("lintian is not installed (scripts/setup.sh installs it)")
    r = subprocess.run(["lintian", "--fail-on", "error,warning", "-I", b["changes"]],
                       capture_output=True, text=True, timeout=300)
    tags = [line for line in r.stdout.splitlines() if re.match(r"^[EWIXP]: ", line)]
    assert r.returncode == 0 and tags == [], r.stdout + r.stderr


def test_installed_binary_runs_a_container():
    b = build()
    skiff = b["root"] + "/usr/bin/skiff"
    out = subprocess.run([skiff, "--version"], capture_output=True, text=True, check=True,
                         timeout=60)
    assert out.stdout.splitlines()[0] == f"skiff version {version()}", out.stdout
    check = subprocess.run([skiff, "--root", lib.ROOT, "check", "--format", "json"],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and json.loads(check.stdout)["runnable"], check.stderr
    bundle = lib.Bundle(["echo", "hello from the package"])
    cid = lib.new_id("pkg")
    r = subprocess.run([skiff, "--root", lib.ROOT, "run", "--bundle", bundle.path, cid],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stdout == "hello from the package\n", (r.stdout, r.stderr)


def test_example_configs_are_read_by_their_programs():
    b = build()
    examples = b["root"] + "/usr/share/doc/skiff/examples"
    with open(f"{examples}/containers.conf", "rb") as f:
        conf = tomllib.load(f)
    assert conf["engine"]["runtime"] == "skiff"
    assert conf["engine"]["runtimes"]["skiff"] == ["/usr/bin/skiff"]
    with open(f"{examples}/containerd.toml", "rb") as f:
        toml = tomllib.load(f)
    cri = toml["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]
    assert cri["runtimes"][cri["default_runtime_name"]]["options"]["BinaryName"] == \
        "/usr/bin/skiff"
    if shutil.which("containerd") is None:
        raise lib.Skip("containerd is not installed: only parsed")
    # containerd itself reads it: the merged config keeps skiff as the runc binary
    r = subprocess.run(["containerd", "--config", f"{examples}/containerd.toml", "config",
                        "dump"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and 'BinaryName = "/usr/bin/skiff"' in r.stdout, r.stderr
