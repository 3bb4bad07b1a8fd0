"""One module per command; ``register`` adds them all to the group."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    from checker.commands import archive, check, report, scan

    for command in (scan.scan, scan.citations_command, check.check, archive.archive_command,
                    report.report_command, report.audit, report.fix_command):
        if command.name not in group.commands:
            group.add_command(command)
