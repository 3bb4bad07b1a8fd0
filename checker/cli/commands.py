"""One module per command, imported only when its command runs (start-up stays fast: ``check``
and ``archive`` bring httpx and waybackpy along, which ``scan`` does not need)."""

from __future__ import annotations

import importlib

import click

#: command name -> "module:attribute"
COMMANDS = {
    "audit": "checker.cli.audit:audit",
    "scan": "checker.cli.scan:scan",
    "citations": "checker.cli.scan:citations_command",
    "check": "checker.cli.check:check",
    "archive": "checker.cli.archive:archive_command",
    "report": "checker.cli.report:report_command",
    "fix": "checker.cli.fix:fix_command",
    "prune": "checker.cli.prune:prune_command",
}


def load(name: str) -> click.Command | None:
    target = COMMANDS.get(name)
    if target is None:
        return None
    module, attribute = target.split(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    return command
