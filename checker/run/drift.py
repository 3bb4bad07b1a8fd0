"""
Content drift, measured (``check --drift``): a live page's main text against its archive capture's.

A link qualifies when its check found it live (alive or moved), the page's main text was kept
(``CheckSettings.main_text``: extracted by ``checker.net.fetch`` from the body it read, so the site
sees no second request) and ``citewatch archive`` verified a Wayback capture for one of its
citations (``Store.drift_captures``: the earliest, the oldest state that was cited). The capture's
body is fetched once, in identity form (``/web/<ts>id_/<url>``), through ``archive.Wayback``: the
replay pace, the per-host cap and the 429 pause of every other archive request. Its main text is
kept in the database (``capture_texts``), so a rerun replays nothing: captures do not change.

The similarity (``checker.judge.maintext.similarity``) is evidence; ``checker.judge.classify`` judges it. A
capture too short to compare (fewer than ``MIN_CAPTURE_TOKENS`` words), one that no longer
replays, or an archive that fails or throttles us gives no similarity, and the check stands as it
was: no evidence is not drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from archive import ArchiveThrottled, ArchiveUnavailable, Wayback
from checker.judge.classify import classify
from checker.judge.maintext import EXTRACTOR_VERSION, main_text, similarity, tokens
from checker.models import CheckResult, Verdict
from checker.settings import CheckSettings
from checker.store.database import Store

#: A capture with less main text than this many words is no basis for a comparison.
MIN_CAPTURE_TOKENS = 30
_HTML_TYPES = (None, "text/html", "application/xhtml+xml")
_LIVE = frozenset({Verdict.ALIVE, Verdict.MOVED})


@dataclass(slots=True)
class DriftTally:
    """What a run's drift measurement did, for the summary line."""

    compared: int = 0        # links whose similarity was measured
    drifted: int = 0         # of which below the threshold
    replays: int = 0         # captures fetched from the archive (the rest came from the database)
    failed: int = 0          # captures the archive could not give (5xx, timeout)
    stopped: str | None = None   # why measuring stopped early (the archive kept answering 429)


class DriftMeter:
    """Measures the drift of one run's live links against their captures (see module docstring)."""

    def __init__(self, store: Store, wayback: Wayback, settings: CheckSettings) -> None:
        self._store = store
        self._wayback = wayback
        self._settings = settings
        self.tally = DriftTally()

    @staticmethod
    def wants(result: CheckResult) -> bool:
        """The check is one whose drift can be measured: live, with the page's main text."""
        return result.verdict in _LIVE and bool(result.observation.main_text)

    async def judge(self, result: CheckResult, capture_url: str,
                    cited_titles: Sequence[str] = ()) -> CheckResult:
        """``result`` with the similarity to the capture at ``capture_url``, drifted when
        classify says so; unchanged when there is nothing to compare."""
        if not self.wants(result) or self.tally.stopped is not None:
            return result
        captured = await self._capture_text(capture_url)
        if captured is None or len(tokens(captured)) < MIN_CAPTURE_TOKENS:
            return result
        score = round(similarity(result.observation.main_text, captured), 3)
        self.tally.compared += 1
        judgement = classify(result.observation, cited_titles=cited_titles,
                             settings=self._settings, similarity=score)
        measured = replace(result, similarity=score, compared_with=capture_url)
        if judgement.verdict is not Verdict.DRIFTED:
            return measured          # the verdict stands; the similarity is kept as evidence
        self.tally.drifted += 1
        return replace(measured, verdict=judgement.verdict, reason=judgement.reason,
                       suggested_url=None)

    async def _capture_text(self, capture_url: str) -> str | None:
        cached = self._store.capture_text(capture_url, EXTRACTOR_VERSION)
        if cached is not None:
            return cached[1]
        try:
            content = await self._wayback.capture_content(capture_url)
        except ArchiveThrottled as exc:
            self.tally.stopped = str(exc)
            return None
        except (ArchiveUnavailable, ValueError):
            self.tally.failed += 1   # not cached: the next run asks again
            return None
        self.tally.replays += 1
        if content is None or content.content_type not in _HTML_TYPES:
            self._store.record_capture_text(capture_url, "no-text", None, EXTRACTOR_VERSION)
            return None
        text = main_text(content.text)
        self._store.record_capture_text(capture_url, "found", text, EXTRACTOR_VERSION)
        return text
