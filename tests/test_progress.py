"""Progress display: silent when asked (CI), one shared display for the stages of audit."""

from __future__ import annotations

from checker.run.progress import _DISPLAY, display, progress


def test_stages_share_one_display_and_it_ends_with_the_command() -> None:
    with display(quiet=False):
        shared = _DISPLAY.get()
        assert shared is not None
        with progress(3, "Scanning", quiet=False) as advance:
            advance()
        with progress(2, "Checking", quiet=False) as advance:
            advance()
            advance()
        assert [t.description for t in shared.tasks] == ["Scanning", "Checking"]
        assert [t.completed for t in shared.tasks] == [1, 2]
    assert _DISPLAY.get() is None


def test_quiet_means_no_display_at_all() -> None:
    with display(quiet=True):
        assert _DISPLAY.get() is None
        with progress(10, "Checking", quiet=True) as advance:
            advance()   # a no-op, never an error
