"""`simscan COMMAND ...`: one argparse parser, one module per command.

Each command module has `add_arguments(parser)` and `run(args) -> int`;
its own imports happen in `run`, so `simscan stats --help` does not load
the scanners.
"""

import argparse
import importlib
import sys

# name -> (module, one line of help).  bin/simscan keeps the same names.
COMMANDS = {
    "check": ("check", "scan messages as qmail-smtpd would, but queue nothing; print a trace"),
    "config": ("configcmd", "print the effective settings and their sources; --check the scanners"),
    "stats": ("stats", "summarise simscan's log lines (multilog, syslog or plain)"),
    "quarantine": ("quarantine", "list, show, release or expire quarantined messages"),
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="simscan",
        description="simscan's admin commands.  With no arguments simscan is "
        "the $QMAILQUEUE program (see `simscan --help`).",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, summary) in COMMANDS.items():
        mod = importlib.import_module(f"{__package__}.{module}")
        sub = commands.add_parser(
            name, help=summary, description=mod.__doc__.split("\n\n")[0] if mod.__doc__ else None
        )
        mod.add_arguments(sub)
        sub.set_defaults(run=mod.run)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    code: int = args.run(args)
    return code
