"""The man pages and the sample simscan.toml, made from README.md.

README.md is the one source: simscan(8) is its sections on running
simscan, simscanmk(8) the simcontrol part of "Per-domain policy",
simscan.toml(5) the "Configuration" section, whose settings table also
gives the commented sample simscan.toml (every setting, its default and
the C ./configure option it replaces).  A new `##` section of the README
lands in simscan(8) by itself; the few that are about this source tree
(installing, developing) are left out by name.

The markdown is the README's own small dialect, turned into roff by hand
(no pandoc): headings, paragraphs, fenced code, `- ` lists, pipe tables
(as .TP lists: roff tables need tbl and overflow a terminal), `code`,
**bold** and *emphasis*.  Anything else is plain text.  The defaults in
the table are checked against simscan.config.settings, so the sample and
the man page cannot drift from the code: `check_table` fails the build.

    python3 packaging/docgen.py OUTDIR [--version V] [--date YYYY-MM-DD]

writes OUTDIR/simscan.8, simscanmk.8, simscan.toml.5 and simscan.toml.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

# README sections that are about this source tree, not about simscan.
NOT_IN_SIMSCAN_8 = ("The two commands", "Installing", "Configuration", "Development")
# Subsections of those that are about running simscan after all.
PROMOTED = ("The work dir, and who simscan runs as",)
SETTINGS_SECTION = "Configuration"
POLICY_SECTION = "Per-domain policy, attachments, regexes, quarantine"
POLICY_END = "**Attachments**"  # simscanmk(8) stops where the attachment check starts
UNSET = "unset"
BULLET = "\\(bu"  # roff's bullet


# --- markdown ----------------------------------------------------------------


@dataclass
class Section:
    level: int  # 1 for the title, 2 for ##, 3 for ### (and ####)
    title: str
    lines: list[str] = field(default_factory=list)


def sections(text: str) -> list[Section]:
    """The README cut at its headings (a `#` line inside ``` is code)."""
    found = [Section(0, "")]
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        m = None if fenced else re.match(r"(#{1,4}) (.*)", line)
        if m:
            found.append(Section(len(m.group(1)), m.group(2).strip()))
        else:
            found[-1].lines.append(line)
    return found


def section(text: str, title: str) -> Section:
    for s in sections(text):
        if s.title == title:
            return s
    raise SystemExit(f"docgen: README.md has no section {title!r}")


@dataclass
class Block:
    kind: str  # "para", "code", "table", "item" (of a `- ` or `1. ` list)
    lines: list[str]
    mark: str = ""  # an item's bullet or number


def blocks(lines: list[str]) -> list[Block]:
    out: list[Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.startswith("```"):
            end = i + 1
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            out.append(Block("code", lines[i + 1 : end]))
            i = end + 1
        elif line.startswith("|"):
            end = i
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            out.append(Block("table", lines[i:end]))
            i = end
        elif m := re.match(r"(- |\d+\. )", line):
            item = [line[m.end() :]]
            i += 1
            while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                item.append(lines[i].strip())
                i += 1
            mark = BULLET if m.group(1) == "- " else m.group(1).strip()
            out.append(Block("item", item, mark))
        else:
            para = [line]
            i += 1
            while i < len(lines) and lines[i].strip() and not _starts_block(lines[i]):
                para.append(lines[i])
                i += 1
            out.append(Block("para", para))
    return out


def _starts_block(line: str) -> bool:
    return line.startswith(("```", "|", "- ")) or re.match(r"\d+\. ", line) is not None


def table_rows(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """A pipe table's header and rows (the `|---|` line dropped)."""
    rows = [[cell.strip() for cell in ln.strip().strip("|").split("|")] for ln in lines]
    return rows[0], [r for r in rows[1:] if not all(set(c) <= set("-: ") for c in r)]


# --- roff ----------------------------------------------------------------------


def _escape(text: str, code: bool = False) -> str:
    text = text.replace("\\", "\\e")
    if code:
        text = text.replace("-", "\\-")
    return "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)


_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])")


def inline(text: str) -> str:
    """`code` and **bold** in bold, *emphasis* in italics; the rest escaped."""
    out = []
    pos = 0
    for m in _INLINE.finditer(text):
        out.append(_escape(text[pos : m.start()]))
        if m.group(1) is not None:
            code = _escape(m.group(1), code=True).replace(" ", " \\%")
            out.append(f"\\fB\\%{code}\\fR")  # (\\%: not hyphenated)
        elif m.group(2) is not None:
            out.append(f"\\fB{inline(m.group(2))}\\fR")
        else:
            out.append(f"\\fI{inline(m.group(3))}\\fR")
        pos = m.end()
    out.append(_escape(text[pos:]))
    return "".join(out)


def text_lines(text: str) -> list[str]:
    """A filled paragraph's source lines: short, none starting a request."""
    lines = textwrap.wrap(inline(" ".join(text.split())), 78, break_on_hyphens=False,
                          break_long_words=False)  # fmt: skip
    return [("\\&" + ln if ln.startswith((".", "'")) else ln) for ln in lines]


def render(blocks_: list[Block]) -> list[str]:
    out: list[str] = []
    in_list = False
    for b in blocks_:
        if b.kind != "item" and in_list:
            out.append(".PP")
            in_list = False
        if b.kind == "para":
            if not in_list and out and out[-1] != ".PP":
                out.append(".PP")
            out.extend(text_lines(" ".join(b.lines)))
        elif b.kind == "item":
            width = 2 if b.mark == BULLET else 4
            out.append(f".IP {b.mark} {width}")
            out.extend(text_lines(" ".join(b.lines)))
            in_list = True
        elif b.kind == "code":
            out.extend([".PP", ".RS 4", ".nf"])
            out.extend("\\&" + _escape(ln, code=True) for ln in b.lines)
            out.extend([".fi", ".RE"])
        elif b.kind == "table":
            out.extend(render_table(b.lines))
    while out and out[-1] == ".PP":
        out.pop()
    return out


def render_table(lines: list[str]) -> list[str]:
    """Each row a .TP entry: the first cell as the tag, the others below it,
    named by their column ("default: ..."), but for the prose ("meaning")."""
    header, rows = table_rows(lines)
    out = [".PP"]
    for row in rows:
        out.append(".TP")
        out.append("\\&" + inline(" ".join(row[0].split())))  # (the tag is one line)
        for i, cell in enumerate(row[1:], 1):
            if i > 1:
                out.append(".br")
            labelled = header[i] and "meaning" not in header[i]
            out.extend(text_lines(f"{header[i]}: {cell}" if labelled else cell))
    out.append(".PP")
    return out


def heading(level: int, title: str) -> str:
    title = _escape(title).replace('"', "\\(dq")
    return f'.SH "{title.upper()}"' if level <= 2 else f'.SS "{title}"'


def page(name: str, number: int, version: str, date: str, manual: str) -> list[str]:
    return [
        f'.\\" {name}({number}), generated from README.md by packaging/docgen.py: edit those.',
        f'.TH {name.upper()} {number} "{date}" "simscan {version}" "{manual}"',
    ]


# --- the pages -------------------------------------------------------------------


def usage_lines() -> list[str]:
    """The usage part of simscan --help (simscan.cli.HELP, read without
    importing simscan.cli), without its "usage: "."""
    lines = help_text().split("\n\n")[0].splitlines()
    return [ln[len("usage: ") :] for ln in lines]


def help_text() -> str:
    """simscan --help, read from simscan.cli.HELP without importing it."""
    tree = ast.parse((ROOT / "src" / "simscan" / "cli.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "HELP" for t in node.targets
        ):
            return str(ast.literal_eval(node.value))
    raise SystemExit("docgen: simscan.cli has no HELP")


def intro(readme: str) -> list[str]:
    """The README's first paragraph: what simscan is."""
    paras = [b for b in blocks(sections(readme)[1].lines) if b.kind == "para"]
    return text_lines(" ".join(paras[0].lines))


def simscan_8(readme: str, version: str, date: str) -> str:
    out = page("simscan", 8, version, date, "System Manager's Manual")
    out += [".SH NAME", "simscan \\- content scanner for qmail, run as QMAILQUEUE"]
    out += [".SH SYNOPSIS", ".nf"]
    out += ["\\&" + _escape(ln, code=True) for ln in usage_lines()]
    out += [".fi", ".SH DESCRIPTION", *intro(readme)]
    skipping = False
    for s in sections(readme)[2:]:
        if s.level == 2:
            skipping = s.title in NOT_IN_SIMSCAN_8
            if s.title == SETTINGS_SECTION:
                out += [heading(2, s.title), "The settings file, every setting and its"]
                out += ["default: see", ".BR simscan.toml (5)."]
                continue
        elif s.level == 3 and s.title in PROMOTED:
            skipping = False
            out.append(heading(2, s.title))
            out.extend(render(blocks(s.lines)))
            continue
        if not skipping:
            out.append(heading(s.level, s.title))
            out.extend(render(blocks(s.lines)))
    out += files_section()
    out += [".SH SEE ALSO", ".BR simscan.toml (5),", ".BR simscanmk (8),"]
    out += [".BR qmail\\-queue (8),", ".BR qmail\\-smtpd (8),", ".BR tcpserver (1),"]
    out += [".BR clamd (8),", ".BR spamd (8)"]
    return "\n".join(out) + "\n"


def files_section() -> list[str]:
    entries = [
        ("/var/qmail/control/simscan.toml", "the settings (simscan.toml(5))"),
        ("/var/qmail/control/simcontrol, simcontrol.cdb", "per-domain policy (simscanmk(8))"),
        ("/var/qmail/control/simversions.cdb", "scanner versions, for the Received line"),
        ("/var/qmail/control/ssattach", "blocked extensions without per_domain"),
        ("/var/qmail/simscan", "the work dir: one dir per message"),
        ("/usr/share/doc/simscan/examples/simscan.toml", "every setting, commented"),
    ]
    out = [".SH FILES"]
    for path, what in entries:
        out += [".TP", f"\\fB{_escape(path, code=True)}\\fR", _escape(what)]
    return out


def simscanmk_8(readme: str, version: str, date: str) -> str:
    policy = section(readme, POLICY_SECTION)
    kept: list[Block] = []
    for b in blocks(policy.lines):
        if b.kind == "para" and b.lines[0].startswith(POLICY_END):
            break
        kept.append(b)
    out = page("simscanmk", 8, version, date, "System Manager's Manual")
    out += [".SH NAME", "simscanmk \\- compile simscan's per\\-domain policy into simcontrol.cdb"]
    out += [".SH SYNOPSIS", ".B simscanmk", ".RB [ \\-g ]"]
    out += [".SH DESCRIPTION", *render(kept)]
    out += [".SH FILES"]
    for path, what in (
        ("CONTROLDIR/simcontrol", "the policy, as text"),
        ("CONTROLDIR/simcontrol.cdb", "what simscanmk writes and simscan reads"),
        ("CONTROLDIR/simversions.cdb", "what simscanmk \\-g writes"),
    ):
        out += [".TP", f"\\fB{path}\\fR", what]
    out += [".PP", "CONTROLDIR is the", ".B controldir", "setting (/var/qmail/control)."]
    out += [".SH SEE ALSO", ".BR simscan (8),", ".BR simscan.toml (5)"]
    return "\n".join(out) + "\n"


def simscan_toml_5(readme: str, version: str, date: str) -> str:
    config = section(readme, SETTINGS_SECTION)
    out = page("simscan.toml", 5, version, date, "File Formats Manual")
    out += [".SH NAME", "simscan.toml \\- simscan's settings"]
    out += [".SH SYNOPSIS", ".B /var/qmail/control/simscan.toml"]
    out += [".SH DESCRIPTION", *render(blocks(config.lines))]
    out += [".PP", "Sections named in quotes are in", ".BR simscan (8)."]
    out += [".SH FILES", ".TP", "\\fB/usr/share/doc/simscan/examples/simscan.toml\\fR"]
    out += ["every setting with its default and the C option it replaces, commented out"]
    out += [".SH SEE ALSO", ".BR simscan (8),", ".BR simscanmk (8)"]
    return "\n".join(out) + "\n"


# --- the settings table and the sample -------------------------------------------


@dataclass
class Setting:
    name: str
    default: str  # as the README writes it: a TOML value, or "unset"
    meaning: str


def settings_table(readme: str) -> list[Setting]:
    for b in blocks(section(readme, SETTINGS_SECTION).lines):
        if b.kind == "table":
            header, rows = table_rows(b.lines)
            if header[0] == "setting":
                return [Setting(r[0].strip("`"), r[1].strip("`"), r[2]) for r in rows]
    raise SystemExit("docgen: no settings table in README.md's Configuration")


def sample_value(s: Setting) -> str:
    """The TOML that gives the default: the README's own, or for an unset
    endpoint list or score the value that means unset."""
    if s.default != UNSET:
        return s.default
    from simscan.config import settings

    value = getattr(settings.Settings(), s.name)
    if value == ():
        return "[]"
    if value is None:
        return "false"
    raise SystemExit(f"docgen: no TOML for the unset default of {s.name}")


def check_table(readme: str) -> list[str]:
    """What is wrong with the README's settings table, against the code:
    a missing or unknown setting, or a default that is not the code's."""
    from simscan.config import settings

    table = settings_table(readme)
    names = [s.name for s in table]
    problems = [f"{n}: not in README.md's settings table" for n in settings.names()
                if n not in names]  # fmt: skip
    problems += [f"{n}: in the table, but no setting" for n in names if n not in settings.names()]
    defaults = settings.Settings()
    for s in table:
        if s.name not in settings.names():
            continue
        try:
            got = getattr(
                settings.from_text(f"{s.name} = {sample_value(s)}\n", "README.md"), s.name
            )
        except Exception as err:  # (a ConfigError, or anything: the table's problem)
            problems.append(f"{s.name}: default {s.default!r} does not load: {err}")
            continue
        if got != getattr(defaults, s.name):
            problems.append(
                f"{s.name}: README says {s.default}, the code {getattr(defaults, s.name)!r}"
            )
    return problems


def _plain(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"\1", text.replace("`", ""))


def sample_toml(readme: str, version: str) -> str:
    out = [
        "# simscan.toml: every setting of simscan, with its default (simscan.toml(5)).",
        f"# Generated from README.md for simscan {version}.",
        "#",
        "# simscan reads /var/qmail/control/simscan.toml (or the file $SIMSCAN_CONFIG",
        "# names) at every message: no restart.  A missing file means all defaults,",
        "# so copy this one there and uncomment what you change; each line below,",
        "# uncommented as it is, sets the default.  `simscan config` shows what is in",
        "# effect and where each value came from.",
        "#",
        "# Each ./configure --enable-X option of the C simscan is the setting X with",
        '# "_" for "-"; "new:" marks settings the C program did not have.',
    ]
    for s in settings_table(readme):
        out.append("")
        words = _plain(s.meaning)
        if s.default == UNSET:
            words += f" (unset by default: {sample_value(s)} means unset)"
        out += textwrap.wrap(words, 76, initial_indent="# ", subsequent_indent="#   ",
                             break_on_hyphens=False, break_long_words=False)  # fmt: skip
        out.append(f"#{s.name} = {sample_value(s)}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--version", default="")
    parser.add_argument("--date", default="")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    from simscan import __version__

    version = args.version or __version__
    readme = README.read_text(encoding="utf-8")
    problems = check_table(readme)
    if problems:
        sys.stderr.write("".join(f"docgen: {p}\n" for p in problems))
        return 1
    args.outdir.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("simscan.8", simscan_8(readme, version, args.date)),
        ("simscanmk.8", simscanmk_8(readme, version, args.date)),
        ("simscan.toml.5", simscan_toml_5(readme, version, args.date)),
        ("simscan.toml", sample_toml(readme, version)),
    ):
        (args.outdir / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
