#!/usr/bin/python3
"""Side-by-side benchmark of skiff, crun and runc (not part of the test suite).

Every runtime runs the SAME generated config.json per scenario, each with its
own --root under one temporary directory; runtimes are interleaved in rounds
(the order rotates every round) so drift on the machine hits all of them alike.
The scale scenario instead gives each runtime a phase of its own (its N
containers, and no other runtime's, up at once), the phase order rotating.
The result is a markdown table of medians (min-max) and the ratios
skiff/crun and skiff/runc.

Run as root:  /usr/bin/python3 bench/run.py [--rounds N] [--quick] [--only SCENARIO]

The whole benchmark runs in a private mount namespace in which an empty file
is bind-mounted over /sys/fs/cgroup/unified/cgroup.controllers: crun 1.8
refuses a hybrid cgroup host whenever that file is non-empty.  The host's
mount table is untouched.  Stdlib only.
"""
import argparse
import ctypes
import json
import os
import pwd
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIFF = os.environ.get("SKIFF", os.path.join(TOP, "skiff"))
RUNTIMES = {"skiff": SKIFF, "crun": "/usr/bin/crun", "runc": "/usr/sbin/runc"}
ORDER = ["skiff", "crun", "runc"]
BUSYBOX = "/bin/busybox"
SECCOMP_JSON = "/usr/share/containers/seccomp.json"
UNIFIED_CONTROLLERS = "/sys/fs/cgroup/unified/cgroup.controllers"
INNER_ENV = "SKIFF_BENCH_INNER"
PR_SET_CHILD_SUBREAPER = 36

SCENARIOS = ["run", "cgroupns", "limits", "limits_systemd", "seccomp", "lifecycle", "exec",
             "throughput", "rss", "binary", "syscalls", "floor", "rootless", "scale", "checkpoint"]
# The scale scenario runs --scale containers per runtime (minutes), and checkpoint needs a
# kernel CRIU works on (the VM: `--vm --only checkpoint`): only when asked for.
DEFAULT_SCENARIOS = [s for s in SCENARIOS if s not in ("scale", "checkpoint")]


# ---------------------------------------------------------------- set-up

def enter_private_mount_ns():
    """Re-executes inside `unshare --mount --propagation private` once."""
    if os.environ.get(INNER_ENV):
        return
    env = dict(os.environ, **{INNER_ENV: "1"})
    cmd = ["unshare", "--mount", "--propagation", "private", "--", sys.executable,
           os.path.abspath(__file__), *sys.argv[1:]]
    os.execvpe("unshare", cmd, env)


def hide_unified_controllers(work):
    if not os.path.exists(UNIFIED_CONTROLLERS):
        return
    with open(UNIFIED_CONTROLLERS) as f:
        if not f.read().strip():
            return
    empty = os.path.join(work, "empty-controllers")
    open(empty, "w").close()
    subprocess.run(["mount", "--bind", empty, UNIFIED_CONTROLLERS], check=True)


def mount_work_tmpfs(work):
    """State roots live on tmpfs, as /run does on a real host (fsync is then free)."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0700", "skiff-bench", work], check=True)


def snapshot_binaries(work):
    """Copies the runtimes: a concurrent rebuild of skiff cannot break a run."""
    d = os.path.join(work, "bin")
    os.makedirs(d)
    for n, p in list(RUNTIMES.items()):
        RUNTIMES[n] = os.path.join(d, n)
        shutil.copy2(p, RUNTIMES[n])


def become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_strays():
    """Reaps orphans reparented to us; call only when no measured child is pending."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def make_rootfs(path):
    for d in ("bin", "proc", "dev", "sys", "tmp", "etc", "root", "run"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(path, "bin", "busybox"))
    for applet in ("true", "sleep", "sh", "cat"):
        os.symlink("busybox", os.path.join(path, "bin", applet))
    with open(os.path.join(path, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    with open(os.path.join(path, "etc", "group"), "w") as f:
        f.write("root:x:0:\n")


def base_config(work):
    """`runc spec`'s config (a neutral, widely used default), made non-interactive."""
    d = os.path.join(work, "spec")
    os.makedirs(d)
    subprocess.run([RUNTIMES["runc"], "spec"], cwd=d, check=True)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/bin/true"]
    cfg["root"] = {"path": os.path.join(work, "rootfs"), "readonly": True}
    return cfg


def podman_seccomp(cfg):
    """Podman's default profile as a runtime-spec linux.seccomp for amd64.

    includes/excludes are honoured for arches (amd64) and caps (the
    container's bounding set); minKernel is ignored (the host is newer).
    """
    with open(SECCOMP_JSON) as f:
        prof = json.load(f)
    caps = set(cfg["process"].get("capabilities", {}).get("bounding", []))

    def wanted(rule):
        inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
        if inc.get("arches") and "amd64" not in inc["arches"]:
            return False
        if inc.get("caps") and not set(inc["caps"]) <= caps:
            return False
        if "amd64" in (exc.get("arches") or []):
            return False
        if set(exc.get("caps") or []) & caps:
            return False
        return True

    out = {"defaultAction": prof["defaultAction"], "syscalls": []}
    if "defaultErrnoRet" in prof:
        out["defaultErrnoRet"] = prof["defaultErrnoRet"]
    for m in prof.get("archMap") or []:
        if m["architecture"] == "SCMP_ARCH_X86_64":
            out["architectures"] = [m["architecture"], *m.get("subArchitectures", [])]
    for rule in prof["syscalls"]:
        if not wanted(rule):
            continue
        r = {"names": rule["names"], "action": rule["action"]}
        if rule.get("args"):
            r["args"] = [{k: a[k] for k in ("index", "value", "valueTwo", "op") if k in a}
                         for a in rule["args"]]
        if "errnoRet" in rule:
            r["errnoRet"] = rule["errnoRet"]
        out["syscalls"].append(r)
    return out


# ---------------------------------------------------------------- running

class Bench:
    def __init__(self, work, rounds, scale=1000, scale_rounds=3):
        self.work = work
        self.rounds = rounds
        self.scale = scale
        self.scale_rounds = scale_rounds
        self.roots = {n: os.path.join(work, "root-" + n) for n in RUNTIMES}
        self.ids = {n: [] for n in RUNTIMES}
        self.seq = 0
        self.err = os.path.join(work, "stderr")
        self.devnull = os.open(os.devnull, os.O_RDWR)
        self.bundles = {}
        self.parsed = {}  # bundle dir -> its config, for container_bundle
        self.cfg = base_config(work)
        self.notes = []
        self.rows = []  # (scenario, {runtime: [values] or str}, unit)
        self.held = []  # our ends of containers' stdio pipes (checkpoint)
        self.inflight = set()  # runtime commands spawned and not yet reaped
        self.stop = threading.Event()  # set by cleanup: parallel lanes start nothing more
        self.lanes = []  # their threads

    def new_id(self, rt):
        self.seq += 1
        cid = f"bench{os.getpid()}-{rt}-{self.seq}"
        self.ids[rt].append(cid)
        return cid

    def bundle(self, name, edit=None):
        if name in self.bundles:
            return self.bundles[name]
        cfg = json.loads(json.dumps(self.cfg))
        if edit:
            edit(cfg)
        d = os.path.join(self.work, "bundle-" + name)
        os.makedirs(d)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1)
        self.bundles[name] = d
        return d

    def rt(self, name, *args):
        if args and args[0] in ("run", "create") and "--bundle" in args:
            # Each container gets its own copy of the bundle's config, naming its own
            # cgroup: without linux.cgroupsPath runc would make one under the bench's
            # own (v1 memory) cgroup, which belongs to the host's process manager.
            args = list(args)
            i = args.index("--bundle") + 1
            args[i] = self.container_bundle(name, args[i], args[-1])
        return [RUNTIMES[name], "--root", self.roots[name], *args]

    def cgroup_parent(self, name):
        """The cgroup every container of runtime `name` is made under, in each hierarchy:
        the bench's own (made by that runtime as it makes any parent), removed at the end."""
        return f"skiff-bench-{os.getpid()}-{name}"

    def container_bundle(self, name, bundle, cid):
        cfg = self.parsed.get(bundle)
        if cfg is None:
            with open(os.path.join(bundle, "config.json")) as f:
                cfg = self.parsed[bundle] = json.load(f)
        d = os.path.join(self.work, "c", cid)
        os.makedirs(d)
        path = f"/{self.cgroup_parent(name)}/{cid}"
        cfg = dict(cfg, linux=dict(cfg["linux"], cgroupsPath=path))
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1)
        return d

    def spawn(self, argv, stdout=None):
        errfd = os.open(self.err + f".{threading.get_ident()}",
                        os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            acts = [(os.POSIX_SPAWN_DUP2, self.devnull, 0),
                    (os.POSIX_SPAWN_DUP2, stdout if stdout is not None else self.devnull, 1),
                    (os.POSIX_SPAWN_DUP2, errfd, 2)]
            return self.track(os.posix_spawn(argv[0], argv, os.environ, file_actions=acts,
                                             setpgroup=0))
        finally:
            os.close(errfd)

    def track(self, pid):
        """Records a runtime command until it is reaped (see done).  Each runs in a process
        group of its own, so a Ctrl-C stops the bench, not a runtime half-way through a
        create; cleanup waits for the commands still running."""
        self.inflight.add(pid)
        return pid

    def done(self, pid, options=0):
        """waitpid (wait4: also the rusage) for a tracked command."""
        r = os.wait4(pid, options)
        if r[0]:
            self.inflight.discard(pid)
        return r

    def timed(self, argv, check=True):
        """Runs argv to completion; returns seconds."""
        t0 = time.perf_counter()
        pid = self.spawn(argv)
        _, status, _ = self.done(pid)
        dt = time.perf_counter() - t0
        if check and status != 0:
            with open(self.err + f".{threading.get_ident()}") as f:
                msg = f.read().strip()
            raise RuntimeError(f"{' '.join(argv)}: exit {os.waitstatus_to_exitcode(status)}: "
                               f"{msg[-400:]}")
        return dt

    def quiet(self, argv):
        try:
            subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=120)
        except subprocess.TimeoutExpired:
            print(f"bench: timed out: {' '.join(argv)}", file=sys.stderr)

    def rotate(self, r, names):
        k = r % len(names)
        return names[k:] + names[:k]

    def add(self, scenario, values, unit="ms", note=None):
        self.rows.append((scenario, values, unit))
        if note:
            self.notes.append(f"{scenario}: {note}")
        print(f"  {scenario}: " + ", ".join(f"{k}={fmt(v, unit)}" for k, v in values.items()),
              file=sys.stderr, flush=True)

    # ---------------------------------------------------------- scenarios

    def measure_run(self, label, bundle, names=ORDER, before=None, flags=()):
        vals = {n: [] for n in names}
        for r in range(self.rounds):
            for n in self.rotate(r, list(names)):
                if before:
                    before(n)
                vals[n].append(self.timed(self.rt(n, *flags, "run", "--bundle", bundle,
                                                  self.new_id(n))))
                reap_strays()
        self.add(label, vals)

    def sc_run(self):
        self.measure_run("run /bin/true", self.bundle("true"))

    def rootless_config(self, uid, gid, rootfs):
        """runc's `spec --rootless` changes to the shared config, for the user uid:gid."""
        cfg = json.loads(json.dumps(self.cfg))
        cfg["root"]["path"] = rootfs
        lin = cfg["linux"]
        lin["namespaces"] = [n for n in lin["namespaces"] if n["type"] != "network"]
        lin["namespaces"].append({"type": "user"})
        lin["uidMappings"] = [{"containerID": 0, "hostID": uid, "size": 1}]
        lin["gidMappings"] = [{"containerID": 0, "hostID": gid, "size": 1}]
        lin.pop("resources", None)
        for m in cfg["mounts"]:
            if m["destination"] == "/sys":
                m.update(type="none", source="/sys",
                         options=["rbind", "nosuid", "noexec", "nodev", "ro"])
            m["options"] = [o for o in m.get("options", []) if not o.startswith(("uid=", "gid="))]
        return cfg

    def sc_rootless(self):
        """run /bin/true as an unprivileged user made for the run (useradd; removed after),
        each runtime through the same `setpriv`, with its own root in a dir the user owns."""
        user = f"skbench{os.getpid()}"
        subprocess.run(["useradd", "-M", "-s", "/bin/sh", user], check=True,
                       capture_output=True)
        d = None
        try:
            pw = pwd.getpwnam(user)
            d = tempfile.mkdtemp(prefix="skiff-bench-rootless-", dir="/tmp")
            shutil.copytree(os.path.join(self.work, "rootfs"), os.path.join(d, "rootfs"),
                            symlinks=True)
            b = os.path.join(d, "bundle")
            os.makedirs(b)
            with open(os.path.join(b, "config.json"), "w") as f:
                json.dump(self.rootless_config(pw.pw_uid, pw.pw_gid,
                                               os.path.join(d, "rootfs")), f)
            bins = os.path.join(d, "bin")
            os.makedirs(bins)
            subprocess.run(["chown", "-R", f"{pw.pw_uid}:{pw.pw_gid}", d], check=True)
            as_user = ["/usr/bin/setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                       "--clear-groups", "--"]
            vals, ok = {}, []
            for n in ORDER:
                shutil.copy2(RUNTIMES[n], os.path.join(bins, n))
                argv = as_user + [os.path.join(bins, n), "--root", os.path.join(d, "root-" + n),
                                  "run", "--bundle", b]
                try:
                    self.timed(argv + [f"warm-{n}"])
                    ok.append(n)
                    vals[n] = []
                except RuntimeError as e:
                    vals[n] = "fails: " + str(e).rsplit(": ", 1)[-1][-60:]
                reap_strays()
            for r in range(self.rounds):
                for n in self.rotate(r, ok):
                    vals[n].append(self.timed(
                        as_user + [os.path.join(bins, n), "--root",
                                   os.path.join(d, "root-" + n), "run", "--bundle", b,
                                   self.new_id(n)]))
                    reap_strays()
            self.add("run /bin/true, rootless (single mapping)", vals,
                     note="as a user made for the run, through setpriv (its exec is in every "
                          "column); no cgroup (the user may write none here)")
        finally:
            subprocess.run(["userdel", user], capture_output=True)
            if d:
                shutil.rmtree(d, ignore_errors=True)

    def sc_cgroupns(self):
        """With a cgroup namespace the /sys/fs/cgroup mount is a cheap one (see README)."""
        b = self.bundle("cgroupns", lambda c: c["linux"]["namespaces"].append({"type": "cgroup"}))
        self.measure_run("run /bin/true, + cgroup namespace", b)

    @staticmethod
    def limits_edit(cfg):
        cfg["linux"].setdefault("resources", {})
        cfg["linux"]["resources"]["memory"] = {"limit": 256 << 20}
        cfg["linux"]["resources"]["pids"] = {"limit": 512}
        cfg["linux"]["resources"]["cpu"] = {"shares": 512}

    def sc_limits_systemd(self):
        """The limits row through each runtime's systemd driver: a transient scope per run."""
        name = "run, memory+pids+cpu limits, --systemd-cgroup"
        if not os.path.isdir("/run/systemd/system") or not cgroup_v2_unified():
            self.add(name, {n: "n/a" for n in ORDER},
                     note="skipped here: needs systemd as PID 1 on a unified host; run "
                          "`bench/run.py --vm-systemd` for this row in the qemu VM")
            return

        def empty_path(cfg):
            self.limits_edit(cfg)
            # Each runtime's default unit: <runtime>-<id>.scope in system.slice.
            cfg["linux"].pop("cgroupsPath", None)
        b = self.bundle("limits-systemd", empty_path)
        self.measure_run(name, b, flags=("--systemd-cgroup",))

    def sc_limits(self):
        b = self.bundle("limits", self.limits_edit)
        name = "run, memory+pids+cpu limits"
        v2 = "/sys/fs/cgroup/cgroup.controllers"
        ctl = open(v2).read().split() if os.path.exists(v2) else []
        # A hybrid or legacy host: skiff's fs1 driver, like runc and crun, uses v1.
        ctl += [c for c in ("memory", "pids", "cpu") if os.path.isdir(f"/sys/fs/cgroup/{c}")]
        if not {"memory", "pids", "cpu"} <= set(ctl):
            self.add(name, {n: "n/a" for n in ORDER},
                     note="skipped here: no memory, pids and cpu controllers on this host; run "
                          "`bench/run.py --vm` for this row in the pure-v2 qemu VM")
            return
        self.measure_run(name, b)

    def sc_seccomp(self):
        if not os.path.exists(SECCOMP_JSON):
            self.add("run, podman seccomp profile", {n: "n/a" for n in ORDER},
                     note=f"skipped: {SECCOMP_JSON} missing (install "
                          "golang-github-containers-common)")
            return

        def edit(cfg):
            cfg["linux"]["seccomp"] = podman_seccomp(cfg)
        b = self.bundle("seccomp", edit)
        cache = os.path.join(self.roots["skiff"], ".seccomp-cache")
        self.measure_run("run, seccomp profile, warm cache", b)

        def cold(n):
            if n == "skiff":
                shutil.rmtree(cache, ignore_errors=True)
        self.measure_run("run, seccomp profile, cold cache", b, before=cold)

    def sc_lifecycle(self):
        b = self.bundle("sleep", lambda c: c["process"].__setitem__("args", ["sleep", "1000"]))
        steps = ["create", "start", "state", "kill", "delete"]
        vals = {s: {n: [] for n in ORDER} for s in steps + ["total"]}
        for r in range(self.rounds):
            for n in self.rotate(r, ORDER):
                cid = self.new_id(n)
                pidf = os.path.join(self.work, f"{cid}.pid")
                t = {}
                t["create"] = self.timed(self.rt(n, "create", "--bundle", b, "--pid-file", pidf,
                                                 cid))
                with open(pidf) as f:
                    pid = int(f.read())
                t["start"] = self.timed(self.rt(n, "start", cid))
                t["state"] = self.timed(self.rt(n, "state", cid))
                t["kill"] = self.timed(self.rt(n, "kill", cid, "KILL"))
                # The init was reparented to us (subreaper): reap it, untimed.
                os.waitpid(pid, 0)
                t["delete"] = self.timed(self.rt(n, "delete", cid))
                t["total"] = sum(t.values())
                for s, v in t.items():
                    vals[s][n].append(v)
                reap_strays()
        for s in steps + ["total"]:
            self.add(f"lifecycle: {s}", vals[s])

    def spawn_piped(self, argv):
        """Runs argv to completion with pipes as stdio, kept open for the container (CRIU
        dumps a pipe, not the host's /dev/null); returns seconds."""
        r_in, w_in = os.pipe()
        r_out, w_out = os.pipe()
        r_err, w_err = os.pipe()
        acts = [(os.POSIX_SPAWN_DUP2, r_in, 0), (os.POSIX_SPAWN_DUP2, w_out, 1),
                (os.POSIX_SPAWN_DUP2, w_err, 2)]
        t0 = time.perf_counter()
        pid = self.track(os.posix_spawn(argv[0], argv, os.environ, file_actions=acts,
                                        setpgroup=0))
        _, status, _ = self.done(pid)
        dt = time.perf_counter() - t0
        for fd in (r_in, w_out, w_err):
            os.close(fd)
        self.held += [w_in, r_out, r_err]
        if status != 0:
            os.set_blocking(r_err, False)
            msg = os.read(r_err, 4096).decode(errors="replace").strip()
            raise RuntimeError(f"{' '.join(argv)}: exit {os.waitstatus_to_exitcode(status)}: "
                               f"{msg[-400:]}")
        return dt

    def checkpoint_supported(self, n):
        if n == "crun":
            r = subprocess.run([RUNTIMES[n], "--version"], capture_output=True, text=True)
            return "+CRIU" in r.stdout
        r = subprocess.run([RUNTIMES[n], "checkpoint", "--help"], capture_output=True)
        return r.returncode == 0

    def sc_checkpoint(self):
        criu = shutil.which("criu") or "/usr/sbin/criu"
        if subprocess.run([criu, "check"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode != 0:
            self.add("checkpoint", {n: "n/a" for n in ORDER},
                     note="`criu check` fails on this kernel: `bench/run.py --vm --only "
                          "checkpoint` measures it in the VM")
            return
        names = [n for n in ORDER if self.checkpoint_supported(n)]
        b = self.bundle("sleep", lambda c: c["process"].__setitem__("args", ["sleep", "1000"]))
        steps = ("checkpoint", "restore --detach")
        vals = {s: {n: [] for n in names} for s in steps}
        for r in range(self.rounds):
            for n in self.rotate(r, names):
                cid = self.new_id(n)
                img = os.path.join(self.work, "img-" + cid)
                self.spawn_piped(self.rt(n, "run", "--detach", "--bundle", b, cid))
                bundle = os.path.join(self.work, "c", cid)
                vals["checkpoint"][n].append(self.timed(self.rt(n, "checkpoint", "--image-path",
                                                                img, cid)))
                vals["restore --detach"][n].append(self.spawn_piped(self.rt(
                    n, "restore", "--detach", "--image-path", img, "--bundle", bundle, cid)))
                self.quiet(self.rt(n, "delete", "--force", cid))
                shutil.rmtree(img, ignore_errors=True)
                reap_strays()
        note = None if "crun" in names else "crun without +CRIU: its column is empty"
        for s in steps:
            self.add(f"checkpoint: {s}", {**{n: "n/a" for n in ORDER}, **vals[s]}, note=note)
            note = None

    def exec_supported(self, n):
        if n != "skiff":
            return True
        r = subprocess.run([RUNTIMES["skiff"], "exec", "--help"], capture_output=True)
        return r.returncode == 0

    def sc_exec(self):
        b = self.bundle("sleep", lambda c: c["process"].__setitem__("args", ["sleep", "1000"]))
        names = [n for n in ORDER if self.exec_supported(n)]
        note = None if "skiff" in names else "skiff column skipped: `skiff exec` is not built yet"
        running = {}
        for n in names:
            cid = self.new_id(n)
            self.timed(self.rt(n, "run", "--detach", "--bundle", b, cid))
            running[n] = cid
        for label, extra in (("exec /bin/true", []), ("exec --detach /bin/true", ["--detach"])):
            vals = {n: [] for n in names}
            for r in range(self.rounds):
                for n in self.rotate(r, names):
                    vals[n].append(self.timed(self.rt(n, "exec", *extra, running[n], "/bin/true")))
                    reap_strays()
            if "skiff" not in vals:
                vals["skiff"] = "n/a"
            self.add(label, vals, note=note)
            note = None
        for n, cid in running.items():
            self.quiet(self.rt(n, "delete", "--force", cid))
        reap_strays()

    def sc_throughput(self, count=100):
        b = self.bundle("true")
        rounds = max(2, self.rounds // 5)
        for lanes in (1, 2):
            vals = {n: [] for n in ORDER}
            for r in range(rounds):
                for n in self.rotate(r, ORDER):
                    ids = [self.new_id(n) for _ in range(count)]
                    dt = self.in_lanes([ids[i::lanes] for i in range(lanes)],
                                       lambda cid: self.timed(self.rt(n, "run", "--bundle", b,
                                                                      cid)))
                    vals[n].append(count / dt)
                    reap_strays()
            self.add(f"throughput, {count} runs, {lanes} lane{'s' if lanes > 1 else ''}",
                     vals, unit="/s")

    def sc_rss(self):
        if not os.path.exists("/usr/bin/time"):
            self.add("peak RSS of run", {n: "n/a" for n in ORDER},
                     note="skipped: /usr/bin/time missing (apt-get install time)")
            return
        b = self.bundle("true")
        vals = {n: [] for n in ORDER}
        out = os.path.join(self.work, "time.out")
        for r in range(max(3, self.rounds // 4)):
            for n in self.rotate(r, ORDER):
                self.timed(["/usr/bin/time", "-o", out, "-f", "%M",
                            *self.rt(n, "run", "--bundle", b, self.new_id(n))])
                with open(out) as f:
                    vals[n].append(int(f.read().split()[-1]))
                reap_strays()
        self.add("peak RSS of run", vals, unit="KiB")

    def sc_binary(self):
        size, stripped, libs = {}, {}, {}
        for n in ORDER:
            path = RUNTIMES[n]
            size[n] = [os.path.getsize(path)]
            s = os.path.join(self.work, "stripped-" + n)
            subprocess.run(["strip", "-o", s, path], check=True)
            stripped[n] = [os.path.getsize(s)]
            out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
            libs[n] = [sum(1 for line in out.splitlines()
                           if "=>" in line or line.strip().startswith("/"))]
        self.add("binary size (as built)", size, unit="KiB-file")
        self.add("binary size, stripped", stripped, unit="KiB-file")
        self.add("shared libraries (ldd)", libs, unit="count")

    def sc_syscalls(self):
        b = self.bundle("true")
        vals = {}
        out = os.path.join(self.work, "strace.out")
        for n in ORDER:
            self.timed(["/usr/bin/strace", "-f", "-c", "-o", out,
                        *self.rt(n, "run", "--bundle", b, self.new_id(n))])
            total = None
            with open(out) as f:
                for line in f:
                    if line.rstrip().endswith("total"):
                        total = int(line.split()[3])
            vals[n] = [total]
            reap_strays()
        self.add("syscalls per run (strace -f -c)", vals, unit="count")

    def sc_floor(self):
        # --mount-proc: a container's minimum work includes a fresh proc mount in its
        # new pid and mount namespaces, so the floor does it too.
        name = "unshare pid,mnt,uts,ipc,net --mount-proc"
        vals = {"fork+exec /bin/true": [], name: []}
        cmds = {"fork+exec /bin/true": ["/bin/true"],
                name: ["/usr/bin/unshare", "--pid", "--mount", "--uts", "--ipc", "--net",
                       "--fork", "--mount-proc", "/bin/true"]}
        for _ in range(self.rounds):
            for k, argv in cmds.items():
                vals[k].append(self.timed(argv))
        for k, v in vals.items():
            self.add(f"floor: {k}", {"skiff": v, "crun": v, "runc": v}, unit="floor")

    def in_lanes(self, chunks, work):
        """Calls work(item) for every item, a thread per chunk; returns the seconds all took.
        cleanup sets self.stop and joins self.lanes: after a Ctrl-C no lane starts more."""
        errors = []

        def lane(chunk):
            try:
                for item in chunk:
                    if self.stop.is_set():
                        return
                    work(item)
            except Exception as e:  # reported after the lanes join
                errors.append(e)
        self.lanes = [threading.Thread(target=lane, args=(c,)) for c in chunks]
        t0 = time.perf_counter()
        for t in self.lanes:
            t.start()
        for t in self.lanes:
            t.join()
        dt = time.perf_counter() - t0
        if errors:
            raise errors[0]
        return dt

    def runtime_processes(self, n):
        """Processes still running the runtime's binary (a shim-like helper would be one)."""
        found = 0
        for p in os.listdir("/proc"):
            try:
                found += p.isdigit() and os.readlink(f"/proc/{p}/exe") == RUNTIMES[n]
            except OSError:
                pass
        return found

    def state_bytes(self, n):
        """Bytes of the state root (on the tmpfs: memory)."""
        total = 0
        for dirpath, _, files in os.walk(self.roots[n]):
            for name in files:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_size
                except OSError:
                    pass
        return total

    def scale_lanes(self, n, b, ids, lanes=2):
        """Creates ids in `lanes` parallel lanes; returns containers per second."""
        argvs = {cid: self.rt(n, "run", "--detach", "--bundle", b, cid) for cid in ids}
        return len(ids) / self.in_lanes([ids[i::lanes] for i in range(lanes)],
                                        lambda cid: self.timed(argvs[cid]))

    def cpu_timed(self, argv):
        """Runs argv to completion; returns (wall seconds, CPU seconds: user + system)."""
        t0 = time.perf_counter()
        pid = self.spawn(argv)
        _, status, ru = self.done(pid)
        dt = time.perf_counter() - t0
        if status != 0:
            raise RuntimeError(f"{' '.join(argv)}: exit {os.waitstatus_to_exitcode(status)}")
        return dt, ru.ru_utime + ru.ru_stime

    def sc_scale(self):
        """`scale` containers of ONE runtime running at once: a phase per runtime
        (scale_phase), with only that runtime's containers up, as the count is meant.  With
        --scale-rounds R the phases repeat R times, the order rotating each round (skiff,
        crun, runc; then crun, runc, skiff; ...), so a drift of the machine or what one
        phase leaves in the kernel falls on each runtime in turn."""
        count = self.scale
        # Up longer than a phase may take on a loaded machine.
        b = self.bundle("sleep-long",
                        lambda c: c["process"].__setitem__("args", ["sleep", "1000000"]))
        edge = min(100, max(1, count // 4))
        lane_rounds, lane_size = 3, max(2, edge // 2)
        rows = {k: {n: [] for n in ORDER} for k in SCALE_ROWS}
        netns = slab_objects("net_namespace")
        orders, waits, above = [], [], 0
        for r in range(self.scale_rounds):
            order = self.rotate(r, ORDER)
            orders.append(", ".join(order))
            for n in order:
                waited, left = self.settle(netns)
                waits.append(waited)
                above += left is not None and netns is not None and left > netns
                print(f"  scale round {r + 1}/{self.scale_rounds}: {n} ({count} containers; "
                      f"network namespaces on the host {left}, waited {waited:.1f} s for them; "
                      f"memory cgroups, dying ones too: {memory_cgroups()})",
                      file=sys.stderr, flush=True)
                t0 = time.perf_counter()
                self.scale_phase(n, b, count, edge, (lane_rounds, lane_size), rows)
                print(f"  scale round {r + 1}: {n} took {time.perf_counter() - t0:.0f} s",
                      file=sys.stderr, flush=True)
        self.notes.append(
            f"scale: each runtime's {count} containers made, measured and deleted in a phase "
            f"of its own, no other runtime's container up; {self.scale_rounds} round(s), "
            f"phase order {' | '.join(orders)}; before each phase the bench waited for the "
            f"host's network namespaces to be back to the {netns} before the first (at most "
            f"{max(waits):.1f} s" + (f"; {above} phase(s) began above it)" if above else ")"))
        self.add(f"scale {count}: run --detach, first {edge}", rows["first"])
        self.add(f"scale {count}: run --detach, last {edge}", rows["last"])
        self.add(f"scale {count}: last {edge} against first {edge} (medians, per phase)",
                 rows["growth"], unit="x")
        self.add(f"scale {count}: run --detach, 2 lanes ({lane_rounds}x{lane_size} more)",
                 rows["lanes"], unit="/s")
        self.add(f"scale {count}: list", rows["list"])
        self.add(f"scale {count}: list, CPU time (user+sys)", rows["listcpu"])
        self.add("scale: state, 1 running", rows["state1"])
        self.add(f"scale: state, {count} running", rows["stateN"])
        self.add(f"scale: exec /bin/true, {count} running", rows["exec"])
        self.add("scale: delete --force, 1 running", rows["delete1"])
        self.add(f"scale: delete --force, {count} running (first {edge})", rows["deleteN"])
        self.add(f"scale: runtime processes left, {count} running", rows["left"], unit="count")
        self.add("scale: state root bytes per container", rows["bytes"], unit="bytes")

    def scale_phase(self, n, b, count, edge, lanes, rows):
        """Runtime n alone: `state` and `delete --force` with 1 container up, then `count`
        made one by one and left running, measured, and deleted; lanes: (rounds, size) of
        the 2-lane creates made on top of the count."""
        ids = [self.new_id(n) for _ in range(count)]
        empty = self.state_bytes(n)

        def run(cid):
            return self.timed(self.rt(n, "run", "--detach", "--bundle", b, cid))
        create = [run(ids[0])]
        for _ in range(10):
            rows["state1"][n].append(self.timed(self.rt(n, "state", ids[0])))
        for _ in range(10):
            cid = self.new_id(n)
            run(cid)
            rows["delete1"][n].append(self.timed(self.rt(n, "delete", "--force", cid)))
            reap_strays()
        create += [run(cid) for cid in ids[1:]]
        rows["first"][n] += create[:edge]
        rows["last"][n] += create[-edge:]
        rows["growth"][n].append(statistics.median(create[-edge:]) /
                                 statistics.median(create[:edge]))
        for _ in range(5):
            wall, cpu = self.cpu_timed(self.rt(n, "list"))
            rows["list"][n].append(wall)
            rows["listcpu"][n].append(cpu)
        for i in range(0, count, max(1, count // 20)):
            rows["stateN"][n].append(self.timed(self.rt(n, "state", ids[i])))
            rows["exec"][n].append(self.timed(self.rt(n, "exec", ids[i], "/bin/true")))
        rows["left"][n].append(self.runtime_processes(n))
        rows["bytes"][n].append((self.state_bytes(n) - empty) / count)
        more = []
        for _ in range(lanes[0]):
            extra = [self.new_id(n) for _ in range(lanes[1])]
            more += extra
            rows["lanes"][n].append(self.scale_lanes(n, b, extra))
        for i, cid in enumerate(ids):
            dt = self.timed(self.rt(n, "delete", "--force", cid))
            if i < edge:
                rows["deleteN"][n].append(dt)
            reap_strays()
        for cid in more:
            self.timed(self.rt(n, "delete", "--force", cid))
        reap_strays()
        self.check_gone(n)

    def check_gone(self, n):
        """After a phase: nothing of runtime n's is left in its root or its cgroups."""
        left = [c for c in os.listdir(self.roots[n]) if c.startswith("bench")]
        cgroups = sum(len(dirs) for mnt in cgroup_mounts()
                      for _, dirs, _ in os.walk(os.path.join(mnt, self.cgroup_parent(n))))
        if left or cgroups:
            note = (f"scale: after delete --force of every container, {n} left {len(left)} in "
                    f"its root and {cgroups} cgroups (removed at the end)")
            if note not in self.notes:
                self.notes.append(note)

    def settle(self, baseline, limit=60, still=10):
        """Waits until the host's network namespaces are back to `baseline`: the kernel frees
        those of exited containers later, in a worker, and each one left makes a sysfs mount
        slower (README, "What grows in create").  Gives up after `limit` seconds, or `still`
        seconds without change (another job's).  Returns (seconds waited, the count)."""
        t0 = changed = time.monotonic()
        last = slab_objects("net_namespace")
        while last is not None and baseline is not None and last > baseline:
            now = time.monotonic()
            if now - t0 > limit or now - changed > still:
                break
            time.sleep(0.2)
            cur = slab_objects("net_namespace")
            if cur != last:
                last, changed = cur, time.monotonic()
        return time.monotonic() - t0, last

    # ---------------------------------------------------------- cleanup

    def wait_inflight(self, limit=120):
        """Waits for the runtime commands still running (a create half-way through leaves
        more to clean than a finished one); kills them after `limit` seconds."""
        deadline = time.monotonic() + limit
        for pid in list(self.inflight):
            try:
                while not self.done(pid, os.WNOHANG)[0]:
                    if time.monotonic() > deadline:
                        os.kill(pid, signal.SIGKILL)
                        self.done(pid)
                        break
                    time.sleep(0.02)
            except ChildProcessError:
                self.inflight.discard(pid)

    def empty_cgroup(self, d):
        """Removes one of the bench's cgroups, killing what still runs in it first (only a
        container of the bench's runtimes can: the cgroup is under cgroup_parent)."""
        for _ in range(200):
            try:
                os.rmdir(d)
                return
            except FileNotFoundError:
                return
            except OSError:
                pass
            try:
                with open(os.path.join(d, "freezer.state"), "w") as f:
                    f.write("THAWED")
            except OSError:
                pass
            try:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    pids = [int(p) for p in f.read().split()]
            except OSError:
                pids = []
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            reap_strays()
            time.sleep(0.05)
        print(f"bench: could not remove {d}", file=sys.stderr)

    def remove_cgroups(self):
        """Removes every runtime's cgroup_parent, bottom up, in every hierarchy."""
        for mnt in cgroup_mounts():
            for n in ORDER:
                top = os.path.join(mnt, self.cgroup_parent(n))
                for dirpath, _, _ in os.walk(top, topdown=False):
                    self.empty_cgroup(dirpath)

    def cleanup(self):
        self.stop.set()
        for t in self.lanes:
            t.join()
        self.wait_inflight()
        while self.held:
            os.close(self.held.pop())
        for n in ORDER:
            root = self.roots[n]
            if not os.path.isdir(root):
                continue
            for cid in os.listdir(root):
                if cid.startswith("bench"):
                    self.quiet(self.rt(n, "delete", "--force", cid))
        reap_strays()
        self.remove_cgroups()
        # Any other cgroup named after one of our ids (a systemd scope: limits_systemd).
        prefix = f"bench{os.getpid()}-"
        for dirpath, dirnames, _ in os.walk("/sys/fs/cgroup", topdown=False):
            base = os.path.basename(dirpath)
            if prefix in base:
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
        os.close(self.devnull)


SCALE_ROWS = ("first", "last", "growth", "lanes", "list", "listcpu", "state1", "stateN", "exec",
              "delete1", "deleteN", "left", "bytes")


def slab_objects(name):
    """Active objects of one slab cache (/proc/slabinfo), or None where it cannot be read."""
    try:
        with open("/proc/slabinfo") as f:
            for line in f:
                if line.startswith(name + " "):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def memory_cgroups():
    """The memory cgroups on the host, dying ones too (/proc/cgroups), or None."""
    try:
        with open("/proc/cgroups") as f:
            for line in f:
                if line.startswith("memory\t"):
                    return int(line.split()[2])
    except OSError:
        pass
    return None


def cgroup_mounts():
    """Mount points of the cgroup hierarchies (v1 and cgroup2) in this mount namespace."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            fstype = fields[fields.index("-") + 1]
            if fstype in ("cgroup", "cgroup2") and fields[4] not in found:
                found.append(fields[4])
    return found


# ---------------------------------------------------------------- report

def fmt(v, unit):
    if isinstance(v, str):
        return v
    m = statistics.median(v)
    if unit in ("ms", "floor"):
        s = f"{m * 1000:.2f} ms"
        if len(v) > 1:
            s += f" ({min(v) * 1000:.2f}-{max(v) * 1000:.2f})"
        return s
    if unit == "/s":
        return f"{m:.1f}/s ({min(v):.1f}-{max(v):.1f})"
    if unit == "KiB":
        return f"{m / 1024:.1f} MiB ({min(v) / 1024:.1f}-{max(v) / 1024:.1f})"
    if unit == "x":
        return f"{m:.2f}x" + (f" ({min(v):.2f}-{max(v):.2f})" if len(v) > 1 else "")
    if unit == "bytes":
        return f"{m:.0f} B"
    if unit == "KiB-file":
        return f"{m / 1024:.0f} KiB"
    return f"{m:g}"


def ratio(a, b):
    if isinstance(a, str) or isinstance(b, str) or not a or not b:
        return "-"
    mb = statistics.median(b)
    return f"{statistics.median(a) / mb:.2f}x" if mb else "-"


def table(rows):
    out = ["| scenario | skiff | crun | runc | skiff/crun | skiff/runc |",
           "| --- | --- | --- | --- | --- | --- |"]
    for name, vals, unit in rows:
        if unit == "floor":
            out.append(f"| {name} | {fmt(vals['skiff'], unit)} | | | | |")
            continue
        cells = [fmt(vals.get(n, "n/a"), unit) for n in ORDER]
        if unit == "x":  # already a ratio, each runtime's own
            out.append(f"| {name} | {' | '.join(cells)} | - | - |")
            continue
        out.append(f"| {name} | {' | '.join(cells)} | {ratio(vals.get('skiff'), vals['crun'])} "
                   f"| {ratio(vals.get('skiff'), vals['runc'])} |")
    return "\n".join(out)


def cgroup_v2_unified():
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def run_in_vm(args):
    """Runs the limits row inside tests/vm (a pure cgroup v2 kernel under qemu), with the
    plain run row beside it: what the limits cost over it under each runtime; or the
    --only scenarios (checkpoint needs the VM's kernel).  With --vm-systemd, systemd is
    PID 1 there and the row through each runtime's systemd driver runs next to them."""
    default = ["run", "limits"] + (["limits_systemd"] if args.vm_systemd else [])
    only = [a for sc in (args.only or default) for a in ("--only", sc)]
    cmd = [os.path.join(TOP, "tests", "vm", "run-in-vm.sh"), "--timeout", "1800"]
    if args.vm_systemd:
        cmd.append("--systemd")
    cmd += ["--", sys.executable, os.path.abspath(__file__), *only, "--rounds", str(args.rounds)]
    return subprocess.run(cmd).returncode


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="3 rounds: a smoke run")
    ap.add_argument("--only", action="append", choices=SCENARIOS,
                    help="run only this scenario (repeatable)")
    ap.add_argument("--scale", type=int, default=1000,
                    help="containers running at once in the scale scenario (default 1000)")
    ap.add_argument("--scale-rounds", type=int, default=3,
                    help="phases per runtime in the scale scenario, the order rotating "
                         "(default 3: each runtime once first, once second, once last)")
    ap.add_argument("--disk", action="store_true",
                    help="keep the state roots on the disk (default: a private tmpfs)")
    ap.add_argument("--vm", action="store_true",
                    help="run the memory+pids+cpu row (and plain run), or the --only rows, in the "
                         "qemu VM (tests/vm)")
    ap.add_argument("--vm-systemd", action="store_true",
                    help="the same in the VM booted with systemd, plus the row through "
                         "each runtime's systemd cgroup driver")
    args = ap.parse_args()
    if args.quick:
        args.rounds = 3
    if os.geteuid() != 0:
        sys.exit("bench: run as root")
    if (args.vm or args.vm_systemd) and not os.environ.get("SKIFF_IN_VM"):
        sys.exit(run_in_vm(args))
    for n, p in RUNTIMES.items():
        if not os.access(p, os.X_OK):
            sys.exit(f"bench: {n} not found at {p} (apt-get install {n}; build skiff)")
    enter_private_mount_ns()
    become_subreaper()
    work = tempfile.mkdtemp(prefix="skiff-bench-", dir="/tmp")
    bench = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        if not args.disk:
            mount_work_tmpfs(work)
        snapshot_binaries(work)
        hide_unified_controllers(work)
        make_rootfs(os.path.join(work, "rootfs"))
        bench = Bench(work, args.rounds, args.scale, args.scale_rounds)
        print(f"bench: {args.rounds} rounds, work dir {work}", file=sys.stderr)
        for sc in args.only or DEFAULT_SCENARIOS:
            print(f"bench: {sc}", file=sys.stderr, flush=True)
            getattr(bench, "sc_" + sc)()
        print(table(bench.rows))
        if bench.notes:
            print()
            for n in bench.notes:
                print(f"- {n}")
    except KeyboardInterrupt:
        print("bench: interrupted, cleaning up", file=sys.stderr)
        return 130
    finally:
        # A second Ctrl-C would leave containers behind: cleanup runs to its end.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if bench:
            bench.cleanup()
        if not args.disk:
            subprocess.run(["umount", "--lazy", work], stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
