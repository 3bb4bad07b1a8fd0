"""The state policy (``confirm``, ``confirm_spacing``) that every command shares, kept in the
database so that ``report``, ``fix`` and ``archive`` see the states the ``check`` before them saw.

Which rule a command uses, for each of the two values:

1. stated on its command line (or in ``CITEWATCH_*`` variables): that, for this command only;
   it is stored when the database has none yet (the first command that states it sets it);
2. stated in the configuration file: that, and it is stored (the file is the standing policy);
3. stated nowhere: the database's, else the built-in default.
"""

from __future__ import annotations

from datetime import timedelta

import click
from click.core import ParameterSource

from checker.judge.state import ConfirmRule
from checker.report.model import StatePolicy
from checker.store.database import Store

CONFIRM_KEY = "confirm"
SPACING_KEY = "confirm_spacing"

_STATED = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def shared_rule(store: Store, rule: ConfirmRule) -> ConfirmRule:
    """The rule this command uses, given ``rule`` from its options (see the module docstring)."""
    return shared_policy(store, rule)[0]


def shared_policy(store: Store, rule: ConfirmRule) -> tuple[ConfirmRule, StatePolicy]:
    """``shared_rule``, and the rule as reports state it: its values and where each came from."""
    count, count_from = _shared(store, CONFIRM_KEY, str(rule.count))
    spacing, spacing_from = _shared(store, SPACING_KEY, repr(rule.spacing.total_seconds()))
    used = ConfirmRule(count=int(count), spacing=timedelta(seconds=float(spacing)))
    return used, StatePolicy(confirm=used.count, confirm_spacing_s=used.spacing.total_seconds(),
                             confirm_from=count_from, spacing_from=spacing_from)


def _shared(store: Store, key: str, given: str) -> tuple[str, str]:
    """The value for ``key`` and where it came from (``StatePolicy``'s words)."""
    ctx = click.get_current_context(silent=True)
    source = ctx.get_parameter_source(key) if ctx is not None else None
    stored = store.setting(key)
    stated = "environment" if source == ParameterSource.ENVIRONMENT else "command line"
    if source == ParameterSource.DEFAULT_MAP or (source in _STATED and stored is None):
        if stored != given:
            store.set_setting(key, given)
        return given, "configuration" if source == ParameterSource.DEFAULT_MAP else stated
    if source in _STATED:
        return given, stated
    if stored is None:
        return given, "default"
    return stored, "database"
