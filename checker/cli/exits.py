"""The exit codes of the ``citewatch`` command, in one place (the README's table lists them).

Every code a command ends with is chosen here: commands raise ``SystemExit(ExitCode.X)`` or one
of the click exceptions below, and ``checker.cli.main.CitewatchGroup`` turns package errors
(``citations.errors``, ``checker.errors``) and interruptions into them at one point.
"""

from __future__ import annotations

from enum import IntEnum

import click


class ExitCode(IntEnum):
    OK = 0
    POLICY = 1         # citations fail the --fail-on policy: link rot, and only that
    USAGE = 2          # click's own code for a bad option or argument
    INPUT = 3          # unreadable input (the other documents are still processed)
    OPERATIONAL = 4    # database, configuration, worker process or archive trouble
    INTERRUPTED = 130  # 128 + SIGINT
    TERMINATED = 143   # 128 + SIGTERM, the shell's code for a process ended by it


class InputError(click.ClickException):
    exit_code = ExitCode.INPUT


class OperationalError(click.ClickException):
    exit_code = ExitCode.OPERATIONAL


class Interrupted(click.ClickException):
    exit_code = ExitCode.INTERRUPTED


class TerminatedExit(click.ClickException):
    exit_code = ExitCode.TERMINATED


__all__ = ["ExitCode", "InputError", "Interrupted", "OperationalError", "TerminatedExit"]
