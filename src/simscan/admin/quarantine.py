"""simscan quarantine (not built yet)."""

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    print("not built yet", file=__import__("sys").stderr)
    return 1
