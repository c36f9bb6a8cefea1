"""Runs one bundle under skiff and under Debian's runc and compares what the container saw.

A run yields a flat dict of observations ("exit", "status:CapEff", "mount:/dev/pts",
"out:env", "hook:prestart"...), normalised so that what legitimately differs between two
runs (mount ids, pids, container ids, paths of the run) does not show.  compare() fails on
every key whose values differ, unless allow.txt lists it for that variant with a reason.
"""
import fnmatch
import itertools
import json
import os
import re
import select
import shutil
import subprocess
import time

import lib

RUNC = os.environ.get("RUNC", "/usr/sbin/runc")
RUNC_ROOT = f"{lib.ROOT}-runc"
HERE = os.path.dirname(os.path.abspath(__file__))
ALLOW = os.path.join(HERE, "allow.txt")
_cgroups = itertools.count(1)

# What the container reports, section by section; its own stderr joins stdout so that the
# runtime's stderr is the runtime's alone.  It exits 42: any other exit status is news.
SCRIPT = r"""exec 2>&1
echo '== status'; grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Uid|Gid|Groups):' /proc/self/status
echo '== mountinfo'; cat /proc/self/mountinfo
echo '== id'; id
echo '== env'; env | sort
echo '== cwd'; pwd
echo '== hostname'; hostname
echo '== domainname'; cat /proc/sys/kernel/domainname
echo '== ulimit'; ulimit -a
echo '== umask'; umask
echo '== tty'; tty && stat -c '%u:%g %a' "$(tty)"; ls -l /dev/console 2>&1 | cut -c1-10
echo '== fds'; ls /proc/self/fd
echo '== dev'; stat -c '%n %F %t:%T %u:%g %a' /dev/* | sort
echo '== proc'; cat /proc/self/oom_score_adj /proc/sys/net/ipv4/ip_forward 2>&1
echo '== personality'; cat /proc/self/personality
echo '== rootfs'; touch /probe-write && echo writable
echo '== extra'; @EXTRA@
exit 42
"""

STATUS_FIELDS = re.compile(r"^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Uid|Gid|Groups):")


def have_runc():
    if not os.access(RUNC, os.X_OK):
        raise lib.Skip(f"runc is not installed at {RUNC}")


def script(extra="true"):
    return ["sh", "-c", SCRIPT.replace("@EXTRA@", extra)]


def _runc(*args, timeout=60):
    return subprocess.run([RUNC, "--root", RUNC_ROOT, *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def _runc_cleanup(cid):
    def clean():
        _runc("delete", "--force", cid)
        if os.path.exists(os.path.join(RUNC_ROOT, cid)):
            raise AssertionError(f"runc container {cid} is left in {RUNC_ROOT}")
        if os.path.isdir(RUNC_ROOT) and not os.listdir(RUNC_ROOT):
            os.rmdir(RUNC_ROOT)
    return clean


def _command(runtime, bundle, cid, run_args=()):
    if runtime == "skiff":
        return [lib.SKIFF, "--root", lib.ROOT, "run", *run_args, "--bundle", bundle.path, cid]
    return [RUNC, "--root", RUNC_ROOT, "run", *run_args, "--bundle", bundle.path, cid]


def _run_plain(cmd, bundle):
    with open(bundle.file("stdout"), "w+") as out, open(bundle.file("stderr"), "w+") as err:
        # files, not pipes: a container left behind would hold a pipe open
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=60)
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read(), err.read()


def _run_tty(cmd, bundle):
    """run with a terminal: the runtime's stdio is a pty, as for a user at a shell."""
    master, slave = os.openpty()
    p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    data = b""
    end = time.monotonic() + 60
    try:
        while time.monotonic() < end:
            r, _, _ = select.select([master], [], [], 0.5)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every slave end is closed
                    break
                if not chunk:
                    break
                data += chunk
            elif p.poll() is not None:
                break
        code = p.wait(timeout=max(1, end - time.monotonic()))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=20)
        os.close(master)
    # skiff and runc both write their errors to the terminal: no separate stderr.
    return code, data.decode(errors="replace").replace("\r\n", "\n"), ""


def run(runtime, bundle, tty=False, run_args=()):
    """Runs the bundle to completion under runtime; returns (exit, stdout, stderr)."""
    cid = lib.new_id("d") if runtime == "skiff" else f"d{os.getpid()}-runc-{time.monotonic_ns()}"
    if runtime == "runc":
        lib.at_cleanup(_runc_cleanup(cid))
    cmd = _command(runtime, bundle, cid, run_args)
    return (_run_tty if tty else _run_plain)(cmd, bundle)


def _cli(runtime, *args):
    """One runtime command with its state root; output through files, as run's."""
    if runtime == "skiff":
        return lib.skiff(*args)
    with open(os.path.join(lib.WORK, "runc.out"), "w+") as out, \
            open(os.path.join(lib.WORK, "runc.err"), "w+") as err:
        p = subprocess.run([RUNC, "--root", RUNC_ROOT, *map(str, args)], stdout=out,
                           stderr=err, stdin=subprocess.DEVNULL, timeout=60)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(args, p.returncode, out.read(), err.read())


def run_exec(runtime, bundle, exec_args, start=True):
    """Creates the bundle's container (started or not), then execs exec_args in it."""
    if runtime == "skiff":
        cid = lib.new_id("d")
    else:
        cid = f"d{os.getpid()}-runc-{time.monotonic_ns()}"
        lib.at_cleanup(_runc_cleanup(cid))
    r = _cli(runtime, "create", "--bundle", bundle.path, cid)
    assert r.returncode == 0, f"{runtime} create: {r.stderr}"
    if start:
        r = _cli(runtime, "start", cid)
        assert r.returncode == 0, f"{runtime} start: {r.stderr}"
    r = _cli(runtime, "exec", *exec_args[:-1], cid, *exec_args[-1])
    _cli(runtime, "delete", "--force", cid)
    return r.returncode, r.stdout, r.stderr


# ---- normalisation ----

def _mount_key_value(line):
    """mountinfo line -> (mount point, "root fstype source opts | superopts")."""
    pre, _, post = line.partition(" - ")
    f = pre.split()
    fstype, source, sopts = (post.split() + ["", "", ""])[:3]
    opts = ",".join(sorted(f[5].split(",")))
    sopts = ",".join(sorted(sopts.split(",")))
    # propagation without the peer group numbers: shared, slave, private
    prop = ",".join(sorted(x.split(":")[0] for x in f[6:])) or "private"
    return f[4], f"root={f[3]} {fstype} {source} {opts} {prop} | {sopts}"


def observe(code, out, err, bundle_path, cid_hint=None):
    """The flat observation dict of one run."""
    seen = {"exit": str(code), "runtime stderr": "present" if err.strip() else "none",
            "container ran": "yes" if "== status" in out else "no"}
    section = None
    lines = {}
    for line in out.splitlines():
        if line.startswith("== "):
            section = line[3:].strip()
            lines.setdefault(section, [])
            continue
        if section is None:
            lines.setdefault("before", []).append(line)
        else:
            lines[section].append(line)
    for line in lines.pop("status", []):
        key, _, value = line.partition(":")
        seen[f"status:{key}"] = " ".join(value.split())
    count = {}
    for line in lines.pop("mountinfo", []):
        if " - " not in line:
            continue
        point, value = _mount_key_value(line.replace(bundle_path, "BUNDLE"))
        count[point] = count.get(point, 0) + 1
        seen[f"mount:{point}" + (f"#{count[point]}" if count[point] > 1 else "")] = value
    for line in lines.pop("env", []):
        name, _, value = line.partition("=")
        seen[f"env:{name}"] = value
    for line in lines.pop("dev", []):
        name, _, value = line.partition(" ")
        seen[f"dev:{name}"] = value
    for name, text in lines.items():
        seen[f"out:{name}"] = "\n".join(text).replace(bundle_path, "BUNDLE")
    return seen


def _hook_state(path, bundle_path):
    """The state a hook read on stdin, with what differs per run replaced by its kind."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return "not run"
    try:
        st = json.loads(text)
    except ValueError:
        return f"not JSON: {text[:200]!r}"
    pid = st.get("pid")
    st["pid"] = "absent" if pid is None else pid if pid in (0, 1) else "host pid"
    st["id"] = "ID" if st.get("id") else st.get("id")
    st["bundle"] = st.get("bundle", "").replace(bundle_path, "BUNDLE")
    for k in ("ociVersion", "created", "rootfs", "owner"):  # runtime-specific extras
        st.pop(k, None)
    return json.dumps(st, sort_keys=True)


def observe_hooks(bundle, names):
    """Adds hook:NAME (the state it saw) and hook order, from files the hooks wrote."""
    seen = {}
    for n in names:
        seen[f"hook:{n}"] = _hook_state(bundle.file(f"hookout/{n}.json"), bundle.path)
    try:
        with open(bundle.file("hookout/order")) as f:
            seen["hook order"] = " ".join(f.read().split())
    except FileNotFoundError:
        seen["hook order"] = "none"
    return seen


# ---- allow-list ----

def load_allow():
    """{(variant, key): reason} from allow.txt: `variant key: reason` lines."""
    allow = {}
    with open(ALLOW) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            head, sep, reason = line.partition(": ")
            parts = head.split(None, 1)
            if not sep or len(parts) != 2 or not reason.strip():
                raise AssertionError(f"{ALLOW}:{n}: want `variant key: reason`, got {line!r}")
            allow[(parts[0], parts[1])] = reason.strip()
    return allow


def _allowed(allow, variant, key):
    return any(fnmatch.fnmatchcase(variant, v) and fnmatch.fnmatchcase(key, k)
               for v, k in allow)


def compare(variant, skiff_seen, runc_seen):
    """Fails on any difference that allow.txt does not list for this variant.

    An entry naming this variant and key exactly that no longer matches a difference fails
    too, unless its reason starts with "being fixed" (the fix landing must not turn the
    suite red) or "sometimes" (runc races); SKIFF_DIFF_STALE=1 lists those too.  Patterns (fnmatch)
    apply where they match."""
    allow = load_allow()
    if skiff_seen["container ran"] != runc_seen["container ran"]:
        # One side never ran the script: what it saw would only repeat that.
        keep = ("exit", "runtime stderr", "container ran")
        skiff_seen = {k: v for k, v in skiff_seen.items() if k in keep or k.startswith("hook")}
        runc_seen = {k: v for k, v in runc_seen.items() if k in keep or k.startswith("hook")}
    diffs = []
    for key in sorted(set(skiff_seen) | set(runc_seen)):
        a, b = skiff_seen.get(key, "(absent)"), runc_seen.get(key, "(absent)")
        if a != b and not _allowed(allow, variant, key):
            diffs.append(f"{key}:\n  skiff: {a}\n  runc:  {b}")
    stale = [k for (v, k), reason in allow.items()
             if v == variant and not any(c in k for c in "*?[")
             and skiff_seen.get(k, "(absent)") == runc_seen.get(k, "(absent)")
             and (not reason.startswith(("being fixed", "sometimes"))
                  or os.environ.get("SKIFF_DIFF_STALE"))]
    msg = ""
    if diffs:
        msg += f"{variant}: skiff and runc differ (not in {os.path.basename(ALLOW)}):\n"
        msg += "\n".join(diffs) + "\n"
    if stale:
        msg += f"{variant}: allow-list entries that no longer differ: {stale}\n"
    assert not msg, msg


def differential(variant, bundle_for, tty=False, hooks=(), runc_runs=True, exec_args=None,
                 start=True, run_args=()):
    """Runs a fresh copy of the bundle under each runtime and compares what each saw.

    bundle_for() makes the bundle: each runtime gets its own, so a write of one (hook
    output, a rootfs file) cannot leak into the other's observations.  With exec_args
    (exec's options, then the command as a list) what is compared is what an exec into
    the container (started, or only created) saw."""
    have_runc()
    seen = {}
    for runtime in ("skiff", "runc"):
        b = bundle_for()
        # An absolute cgroup path of the test's own: without one runc nests the container
        # under its caller's cgroup, which on this host is the harness's (/process_api).
        cgroup = f"/skiff-diff-{runtime}-{os.getpid()}-{next(_cgroups)}"
        b.config["linux"].setdefault("cgroupsPath", cgroup)
        b.write()
        os.makedirs(b.file("hookout"), exist_ok=True)
        if exec_args is None:
            code, out, err = run(runtime, b, tty=tty, run_args=run_args)
        else:  # exec_args: options..., then the command as a list
            code, out, err = run_exec(runtime, b, exec_args, start)
        seen[runtime] = observe(code, out.replace(b.config["linux"]["cgroupsPath"], "/CGROUP"),
                                err, b.path)
        seen[runtime].update(observe_hooks(b, hooks) if hooks else {})
        seen[runtime]["(stderr text)"] = err  # shown on failure only, never compared
    texts = {r: seen[r].pop("(stderr text)") for r in seen}
    # The reference must do what the variant is about, or the comparison proves nothing.
    assert seen["runc"]["container ran"] == ("yes" if runc_runs else "no"), (
        f"{variant}: under runc the container ran: {seen['runc']['container ran']}, "
        f"expected {runc_runs}; runc stderr: {texts['runc'][-1500:]}")
    try:
        compare(variant, seen["skiff"], seen["runc"])
    except AssertionError as e:
        raise AssertionError(f"{e}\nskiff stderr: {texts['skiff'][-1500:]}\n"
                             f"runc stderr: {texts['runc'][-1500:]}") from None
    return seen


def clean_runc_root():
    shutil.rmtree(RUNC_ROOT, ignore_errors=True)
