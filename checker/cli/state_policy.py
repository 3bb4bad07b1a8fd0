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
from checker.store.database import Store

CONFIRM_KEY = "confirm"
SPACING_KEY = "confirm_spacing"

_STATED = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def shared_rule(store: Store, rule: ConfirmRule) -> ConfirmRule:
    """The rule this command uses, given ``rule`` from its options (see the module docstring)."""
    count = _shared(store, CONFIRM_KEY, str(rule.count))
    spacing = _shared(store, SPACING_KEY, repr(rule.spacing.total_seconds()))
    return ConfirmRule(count=int(count), spacing=timedelta(seconds=float(spacing)))


def _shared(store: Store, key: str, given: str) -> str:
    ctx = click.get_current_context(silent=True)
    source = ctx.get_parameter_source(key) if ctx is not None else None
    stored = store.setting(key)
    if source == ParameterSource.DEFAULT_MAP or (source in _STATED and stored is None):
        if stored != given:
            store.set_setting(key, given)
        return given
    if source in _STATED or stored is None:
        return given
    return stored
