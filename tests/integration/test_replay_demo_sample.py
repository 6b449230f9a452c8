"""The recorded sample day shipped in app/resources/demo replays, and matches its recipe."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

from app.domain.market import InstrumentStatus
from app.feeds import WELL_KNOWN, ReplayFeed, SyntheticFeed, record
from app.resources import resource_path

DEMO = resource_path("demo")
SAMPLE_DAY = date(2026, 11, 20)


def recipe() -> SyntheticFeed:
    """How app/resources/demo/2026-11-20.jsonl.gz was made; rerun `record(recipe(), SAMPLE_DAY, path)`
    after a deliberate change to the synthetic generator."""
    return SyntheticFeed(
        list(WELL_KNOWN), seed=7, step_seconds=60, limit_up=["300059.SZ"], limit_down=["600767.SH"]
    )


def test_demo_sample_when_replayed_then_a_whole_day_of_the_well_known_names() -> None:
    feed = ReplayFeed(DEMO)
    assert feed.days() == [SAMPLE_DAY]
    infos = feed.instruments(SAMPLE_DAY)
    assert [info.code for info in infos] == list(WELL_KNOWN)
    assert all(info.status is InstrumentStatus.NORMAL for info in infos)
    batches = list(feed.batches(SAMPLE_DAY))
    assert batches[0][0].hour == 9 and batches[-1][0].hour == 15
    locked = batches[-1][1][[info.code for info in infos].index("300059.SZ")]
    assert (
        locked.best_ask is None and locked.last == infos[[i.code for i in infos].index("300059.SZ")].up_limit
    )


def test_demo_sample_when_regenerated_from_its_recipe_then_the_same_text(tmp_path: Path) -> None:
    fresh = tmp_path / "2026-11-20.jsonl.gz"
    record(recipe(), SAMPLE_DAY, fresh)
    # compare the text, not the compressed bytes: another zlib build may compress differently
    shipped = gzip.decompress((DEMO / "2026-11-20.jsonl.gz").read_bytes())
    assert gzip.decompress(fresh.read_bytes()) == shipped, (
        "the synthetic generator changed: regenerate app/resources/demo/2026-11-20.jsonl.gz from recipe()"
    )
