"""The manual: skiff.8 plus one page per command, checked against the parser's option tables
(as --help prints them), so a new, renamed or removed option or command cannot go unnoticed."""
import os
import re
import shutil
import subprocess

import lib
import optiontable

MAN = os.path.join(lib.TOP, "man")
FONT = re.compile(r"\\f[BIRP]")


def page(name):
    with open(os.path.join(MAN, name)) as f:
        return f.read()


def section(text, title):
    """The lines of `.SH TITLE` up to the next .SH ([] when absent)."""
    lines = text.splitlines()
    try:
        start = lines.index(f".SH {title}") + 1
    except ValueError:
        return []
    end = next((i for i in range(start, len(lines)) if lines[i].startswith(".SH ")), len(lines))
    return lines[start:end]


def documented(lines):
    """{long: (short, takes_value)} from the header line after each .TP."""
    found = {}
    for i, line in enumerate(lines[:-1]):
        if line != ".TP":
            continue
        head = lines[i + 1]
        plain = FONT.sub("", head).replace("\\-", "-")
        longs = re.findall(r"(?<![\w-])--([a-z][a-z-]*)", plain)
        shorts = re.findall(r"(?<![\w-])-([a-zA-Z])(?![\w-])", plain)
        takes_value = head.startswith(".BI") or "\\fI" in head
        for name in longs:
            found[name] = (shorts[0] if shorts else None, takes_value)
    return found


def expected(opts, with_help):
    return {o[0]: (o[1], o[2]) for o in opts if with_help or o[0] != "help"}


def test_every_command_has_a_page_with_exactly_its_options():
    names = []
    for name, summary in optiontable.commands():
        names.append(name)
        text = page(f"skiff-{name}.8")
        assert text.startswith(f'.TH SKIFF\\-{name.upper()} 8 '), name
        # NAME is the command's one-line summary
        want = f"skiff-{name} - " + summary.replace("`", "")
        got = [line.replace("\\-", "-") for line in section(text, "NAME")]
        assert got == [want], (name, got, want)
        synopsis = " ".join(section(text, "SYNOPSIS"))
        assert f".B {name}" in synopsis, (name, synopsis)
        got = documented(section(text, "OPTIONS"))
        want = expected(optiontable.command_options(name), with_help=False)
        assert got == want, (name, {k: (got.get(k), want.get(k))
                                    for k in set(got) | set(want) if got.get(k) != want.get(k)})
        assert "skiff(8)" in " ".join(section(text, "SEE ALSO")), name
    pages = sorted(f[len("skiff-"):-2] for f in os.listdir(MAN)
                   if f.startswith("skiff-") and f.endswith(".8"))
    assert pages == sorted(names), f"pages without a command: {set(pages) - set(names)}"


def test_skiff_8_has_the_global_options_and_every_command():
    text = page("skiff.8")
    got = documented(section(text, "GLOBAL OPTIONS"))
    want = expected(optiontable.global_options(), with_help=True)
    assert got == want, {k: (got.get(k), want.get(k)) for k in set(got) | set(want)
                         if got.get(k) != want.get(k)}
    listed = re.findall(r"^\.BR skiff\\-([a-z]+) \(8\)$", "\n".join(section(text, "COMMANDS")),
                        re.M)
    names = [name for name, _ in optiontable.commands()]
    assert listed == names, (listed, names)
    see_also = " ".join(section(text, "SEE ALSO"))
    for name in names:
        assert f"skiff\\-{name}(8)" in see_also, name
    for title in ("EXIT STATUS", "ENVIRONMENT", "FILES"):
        assert section(text, title), f"skiff.8 has no {title} section"
    # every variable skiff's sources read is documented
    env = " ".join(section(text, "ENVIRONMENT"))
    src = os.path.join(lib.TOP, "src")
    for root, _, files in os.walk(src):
        for f in files:
            if f.endswith(".c"):
                with open(os.path.join(root, f)) as fh:
                    for var in re.findall(r'getenv\("(\w+)"\)', fh.read()):
                        assert var in env, f"{f} reads ${var}, which skiff.8 does not document"


def test_pages_are_installed_and_render_cleanly():
    with open(os.path.join(MAN, "Makemodule.am")) as f:
        installed = f.read()
    pages = sorted(f for f in os.listdir(MAN) if f.endswith(".8"))
    for p in pages:
        assert f"man/{p}" in installed, f"{p} is not in man/Makemodule.am"
    if shutil.which("groff") is None:
        raise lib.Skip("groff is not installed")
    for p in pages:
        r = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8", os.path.join(MAN, p)],
                           capture_output=True, text=True, env=dict(os.environ, LC_ALL="C.UTF-8"),
                           timeout=60)
        assert r.returncode == 0 and r.stderr == "", (p, r.stderr)
