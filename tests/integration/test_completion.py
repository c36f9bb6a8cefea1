"""Shell completions (`skiff __completion bash|zsh|fish`): each shell really completes every
command, every option of every command (long and short) and of the global table, files after
an option that takes a value, and the ids of existing containers.  The expected sets come from
`skiff --help` and `skiff CMD --help`, which print the parser's own tables."""
import os
import shutil
import subprocess
import tempfile

import lib
import optiontable
from lib import SKIFF, WORK

HERE = os.path.dirname(os.path.abspath(__file__))


def help_table():
    """(commands, global options, {command: options}); an option is (long, short, takes_value)."""
    names = [name for name, _ in optiontable.commands()]
    return names, optiontable.global_options(), {c: optiontable.command_options(c)
                                                  for c in names}


def words(opts):
    return {f"--{o[0]}" for o in opts} | {f"-{o[1]}" for o in opts if o[1]}


def scripts(d):
    for shell, name in (("bash", "skiff.bash"), ("zsh", "_skiff"), ("fish", "skiff.fish")):
        with open(os.path.join(d, name), "w") as f:
            subprocess.run([SKIFF, "__completion", shell], stdout=f, check=True, timeout=60)


def parse(out):
    got, cur = {}, None
    for line in out.splitlines():
        if line.startswith("== "):
            cur = line[3:]
            got[cur] = set()
        elif cur is not None and line.strip():
            got[cur].add(line.split("\t")[0].replace("\\", ""))
    return got


def env_with_skiff():
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(SKIFF) + ":" + env.get("PATH", "/usr/bin:/bin")
    return env


def complete_bash(d, requests, cwd):
    prog = [f"source {d}/skiff.bash"]
    for r in requests:
        ws = r.split(" ")
        arr = " ".join(f"'{w}'" for w in ws)
        prog.append(f"echo '== {r}'; COMP_WORDS=({arr}); COMP_CWORD={len(ws) - 1}; "
                    "COMPREPLY=(); _skiff; printf '%s\\n' \"${COMPREPLY[@]}\"")
    out = subprocess.run(["bash", "--norc", "-c", "\n".join(prog)], capture_output=True,
                         text=True, cwd=cwd, env=env_with_skiff(), timeout=60)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    return parse(out.stdout)


def complete_zsh(d, requests, cwd):
    out = subprocess.run(["zsh", "-f", os.path.join(HERE, "complete.zsh"), d, *requests],
                         capture_output=True, text=True, cwd=cwd, env=env_with_skiff(),
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return parse(out.stdout)


def complete_fish(d, requests, cwd):
    prog = [f"source {d}/skiff.fish"]
    prog += [f"echo '== {r}'; complete -C '{r}'" for r in requests]
    out = subprocess.run(["fish", "--no-config", "-c", "\n".join(prog)], capture_output=True,
                         text=True, cwd=cwd, env=env_with_skiff(), timeout=60)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    return parse(out.stdout)


def run_shell(shell):
    if shutil.which(shell) is None:
        raise lib.Skip(f"{shell} is not installed (scripts/setup.sh installs it)")
    commands, glob, per = help_table()
    assert "create" in commands and per["create"], (commands, per)
    d = tempfile.mkdtemp(dir=WORK)
    scripts(d)
    cwd = tempfile.mkdtemp(dir=WORK)
    os.mkdir(os.path.join(cwd, "bundlexyz"))
    # a real container, so that its id is there to complete
    b = lib.Bundle(["sleep", "30"])
    cid = lib.new_id("cmpl")
    lib.skiff_ok("create", "--bundle", b.path, cid)
    requests = ["skiff ", "skiff -", "skiff create --bundle bundlex",
                f"skiff --root {lib.ROOT} kill {cid[:4]}"]
    requests += [f"skiff {c} -" for c in commands]
    got = {"bash": complete_bash, "zsh": complete_zsh, "fish": complete_fish}[shell](
        d, requests, cwd)
    assert got["skiff "] == set(commands), got["skiff "]
    assert got["skiff -"] == words(glob), got["skiff -"] ^ words(glob)
    for c in commands:
        want = words(per[c])
        assert got[f"skiff {c} -"] == want, (c, got[f"skiff {c} -"] ^ want)
    assert {"bundlexyz", "bundlexyz/"} & got["skiff create --bundle bundlex"], got
    assert cid in got[f"skiff --root {lib.ROOT} kill {cid[:4]}"], got


def test_bash_completes_every_option():
    run_shell("bash")


def test_zsh_completes_every_option():
    run_shell("zsh")


def test_fish_completes_every_option():
    run_shell("fish")


def test_unknown_shell_is_one_line():
    r = subprocess.run([SKIFF, "__completion", "tcsh"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == "skiff: __completion: expected bash, zsh or fish, got `tcsh`\n", r.stderr
