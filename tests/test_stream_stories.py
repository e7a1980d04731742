"""`newsbeam stream`: near-duplicates and stories in Beam state (transforms/stream_stories.py), on Beam's
streaming DirectRunner with TestStream: links across windows, one story per event and none across look-alike
events, expiry after the horizons, and the start from the sketches a batch `newsbeam run` wrote."""

from __future__ import annotations

import datetime as dt
import time
from html import escape

import apache_beam as beam
import pyarrow.dataset as ds
from apache_beam.testing.test_stream import TestStream as Events
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.utils.timestamp import Timestamp

from newsbeam.transforms import neardup
from newsbeam.transforms.dedup import DedupSettings, make_article_id, sketch_entries
from newsbeam.transforms.records import Article, Place
from newsbeam.transforms.stories import RollingIdf, StoryClusterer, StorySettings
from newsbeam.transforms.stream import StreamSettings
from newsbeam.transforms.stream_dedup import StreamDeduplicate
from newsbeam.transforms.stream_stories import _day, _Links, _Sketches, batch_window_s
from tests.test_dedup import EDITED, ORIGINAL, OTHER_QUAKE
from tests.test_stream import at, polled, streaming_pipeline, ts

STREAM = StreamSettings(window_s=60, allowed_lateness_s=600)
DAY = 86400.0
FOLLOW_UP = (
    "Rescuers searched the rubble near Izmir after a magnitude 6.4 quake struck on Tuesday, killing at "
    "least 17 people, civil protection chief Amara Demir said. Hundreds of residents spent a second night "
    "in tents set up in parks and school yards across the province."
)


def news(
    outlet: str,
    body: str,
    published: dt.datetime,
    fetched: dt.datetime,
    *,
    title: str = "Magnitude 6.4 quake strikes near Izmir",
    place: str = "Izmir",
    language: str | None = "en",
) -> Article:
    url = f"https://{outlet}.example/{place.lower()}-quake"
    feed = f"https://{outlet}.example/rss"
    return Article(
        article_id=make_article_id(url, None, feed, title, body),
        url=url,
        source=f"{outlet}.example",
        feed_url=feed,
        title=title,
        body=body,
        language=language,
        fetched_at=fetched,
        published_at=published,
        date_source="feed",
        countries=("TR",),
        places=(Place(place, "TR", 2), Place("Turkey", "TR", 1)),
        story_id="",
    )


def decisions(articles, settings: DedupSettings | None = None, sketch_paths=(), index_paths=()):
    """What the stream writes: (article_id, duplicate_of, dedup_reason, similar enough, story_id) per
    article, and its sketch rows as (article_id, story_id)."""
    out = articles | StreamDeduplicate(settings or DedupSettings(), list(index_paths), STREAM, sketch_paths)
    threshold = (settings or DedupSettings()).near_duplicate_threshold
    written = out.main | "Decisions" >> beam.Map(
        lambda k: (
            k.article.article_id,
            k.article.duplicate_of,
            k.article.dedup_reason,
            (k.article.dedup_similarity or 0.0) >= threshold,
            k.article.story_id,
        )
    )
    sketches = out.main | "SketchRows" >> beam.Map(lambda k: (k.sketch.article_id, k.sketch.story_id))
    return written, sketches


def test_a_near_copy_in_a_later_window_links_to_the_first_copy_and_joins_its_story():
    first = news("wire", ORIGINAL, at(10), at(20))
    copy = news("meridian", EDITED, at(100), at(130), title="17 dead as quake shakes Izmir")
    stream = (
        Events()
        .advance_watermark_to(ts(0))
        .add_elements(polled(first))
        .advance_watermark_to(ts(90))  # the first window [0, 60) is complete before the copy is polled
        .add_elements(polled(copy))
        .advance_watermark_to_infinity()
    )
    with streaming_pipeline() as p:
        written, sketches = decisions(p | stream)
        a, b = first.article_id, copy.article_id
        assert_that(written, equal_to([(a, None, None, False, a), (b, a, "near-text", True, a)]))
        assert_that(sketches, equal_to([(a, a), (b, a)]), label="SketchRowsCarryTheStory")


def test_dropped_near_duplicates_are_not_written_but_their_keys_are_remembered():
    first = news("wire", ORIGINAL, at(10), at(20))
    copy = news("meridian", EDITED, at(100), at(130), title="17 dead as quake shakes Izmir")
    stream = (
        Events()
        .advance_watermark_to(ts(0))
        .add_elements(polled(first))
        .advance_watermark_to(ts(90))
        .add_elements(polled(copy))
        .advance_watermark_to_infinity()
    )
    with streaming_pipeline() as p:
        out = p | stream | StreamDeduplicate(DedupSettings(drop_near_duplicates=True), [], STREAM)
        assert_that(
            out.main | "Written" >> beam.Map(lambda k: k.article.article_id), equal_to([first.article_id])
        )
        assert_that(  # feed health counts only what is written
            out.kept | "Kept" >> beam.Map(lambda a: a.article_id), equal_to([first.article_id]), label="Kept"
        )
        # the copy's identity keys go to the look-back index all the same: seen again, it is an exact copy
        assert_that(
            out.refreshed | "Keys" >> beam.Map(lambda e: (e.key.split(":", 1)[0], e.article_id)),
            equal_to([("text", copy.article_id), ("url", copy.article_id)]),
            label="KeysOfTheDroppedCopy",
        )


def test_two_reports_of_one_event_share_a_story_and_a_look_alike_event_does_not():
    quake = news("wire", ORIGINAL, at(10), at(20))
    follow_up = news("courier", FOLLOW_UP, at(3600), at(3700), title="Izmir quake: rescuers search rubble")
    # another earthquake in the same house style, in another city: neither a copy nor the same story
    konya_title = "Magnitude 5.9 quake strikes near Konya"
    konya = news("wire", OTHER_QUAKE, at(7200), at(7300), title=konya_title, place="Konya")
    stream = (
        Events()
        .advance_watermark_to(ts(0))
        .add_elements(polled(quake))
        .advance_watermark_to(ts(3650))
        .add_elements(polled(follow_up))
        .advance_watermark_to(ts(7250))
        .add_elements(polled(konya))
        .advance_watermark_to_infinity()
    )
    with streaming_pipeline() as p:
        written, _ = decisions(p | stream)
        q, f, k = quake.article_id, follow_up.article_id, konya.article_id
        assert_that(
            written,
            equal_to([(q, None, None, False, q), (f, None, None, False, q), (k, None, None, False, k)]),
        )


def test_links_and_stories_end_at_their_horizons():
    settings = DedupSettings(lookback_days=1, stories=StorySettings(window_hours=12))
    first = news("wire", ORIGINAL, at(10), at(20))
    copy = news("meridian", EDITED, at(0.5 * DAY - 60), at(0.5 * DAY), title="17 dead as quake shakes Izmir")
    # the same text as `first` under another address, two days on: exact dedup has forgotten the text
    # (one day), near-duplicate detection its sketches (one day) and the story its window (12 hours)
    echo = news("echo", ORIGINAL, at(2 * DAY - 60), at(2 * DAY))
    stream = (
        Events()
        .advance_watermark_to(ts(0))
        .add_elements(polled(first))
        .advance_watermark_to(ts(0.5 * DAY - 1))
        .add_elements(polled(copy))
        .advance_watermark_to(ts(2 * DAY - 1))
        .add_elements(polled(echo))
        .advance_watermark_to_infinity()
    )
    with streaming_pipeline() as p:
        written, _ = decisions(p | stream, settings)
        a, b, c = first.article_id, copy.article_id, echo.article_id
        assert_that(
            written,
            equal_to([(a, None, None, False, a), (b, a, "near-text", True, a), (c, None, None, False, c)]),
        )


def test_the_state_forgets_sketches_stories_and_term_counts_past_their_horizons():
    settings = DedupSettings(lookback_days=1, stories=StorySettings(window_hours=12))
    konya = news("wire", OTHER_QUAKE, at(30), at(40), title="Quake strikes near Konya", place="Konya")
    articles = [news("wire", ORIGINAL, at(10), at(20)), konya]
    idf = RollingIdf()
    links = _Links(_Sketches(settings.lsh_bands), StoryClusterer(settings.stories, idf, 0.0), idf)
    for seq, (article, entry) in enumerate(zip(articles, sketch_entries(articles, settings), strict=True)):
        kept_at = article.fetched_at.timestamp()
        idf.add(_day(kept_at), (term for term, _ in entry.terms))
        links.clusterer.update_idf(idf, idf.unseen)
        story = links.clusterer.assign(entry.story_doc())
        keys = neardup.band_keys(entry.sketch.signature, settings.lsh_bands)
        links.sketches.add(entry, story, seq, kept_at, keys)
    start = at(0).timestamp()
    assert (len(links.sketches), len(links.clusterer)) == (2, 2)
    assert links.sketches.story_of(articles[1].article_id) == articles[1].article_id
    links.prune(start + 0.4 * DAY, DAY, 12 * 3600)
    assert (len(links.sketches), len(links.clusterer)) == (2, 2) and len(idf) > 0
    links.prune(start + 0.6 * DAY, DAY, 12 * 3600)  # the stories' window has passed, the look-back not
    assert (len(links.sketches), len(links.clusterer)) == (2, 0)
    links.prune(start + 1.1 * DAY, DAY, 12 * 3600)
    assert (len(links.sketches), len(links.clusterer)) == (0, 0) and len(idf) > 0
    # term counts go by whole UTC days, as index partitions do
    links.prune(start + 1.6 * DAY, DAY, 12 * 3600)
    assert (len(links.sketches), len(links.clusterer), len(idf)) == (0, 0, 0)
    assert links.sketches.facts.size == 0 and links.sketches.signatures.shape == (0, neardup.NUM_PERM)


def test_batches_never_straddle_two_windows():
    assert batch_window_s(60, 1) == 1.0
    assert batch_window_s(10, 0.3) == 0.25  # 40 batches a window: at most a tick each
    assert batch_window_s(1, 5) == 1.0
    for window_s, tick_s in ((60, 1), (10, 0.3), (7, 2), (0.5, 0.2)):
        size = batch_window_s(window_s, tick_s)
        assert size <= tick_s or size == window_s
        assert round(window_s * 1e6) % round(size * 1e6) == 0


def test_a_stream_links_a_copy_of_what_a_batch_run_wrote_and_joins_its_story(tmp_path):
    from newsbeam.pipeline.config import load_config, resolve_feeds
    from newsbeam.pipeline.runner import run_batch
    from newsbeam.transforms.sink import SKETCHES, index_files
    from tests.test_cli import E2E_CONFIG

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    published = now - dt.timedelta(hours=2)
    body = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in ORIGINAL.split("\n\n"))
    feed = tmp_path / "wire.xml"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link>'
        "<item><title>Magnitude 6.4 quake strikes near Izmir</title>"
        "<link>https://wire.example/izmir-quake</link>"
        f"<pubDate>{published:%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
        f"<description>{escape(body)}</description></item></channel></rss>"
    )
    out = tmp_path / "out"
    config, _ = load_config(E2E_CONFIG, {"output": str(out), "feeds": [str(feed)]})
    assert run_batch(config, resolve_feeds(config, tmp_path), []).articles_written == 1
    (row,) = ds.dataset(out / "articles", partitioning="hive").to_table().to_pylist()
    since = (now - dt.timedelta(days=7)).date()
    sketch_paths, index_paths = index_files(str(out), since, SKETCHES), index_files(str(out), since)
    assert sketch_paths and index_paths

    # the stream starts afterwards (its ticks follow the wall clock, as LiveTicks' do)
    tick = dt.datetime.fromtimestamp(round(time.time() + 5), dt.UTC)  # TestStream: whole milliseconds
    copy = news("meridian", EDITED, published + dt.timedelta(minutes=30), tick, language=row["language"])
    stream = (
        Events()
        .advance_watermark_to(Timestamp(tick.timestamp() - 1))
        .add_elements(polled(copy))
        .advance_watermark_to_infinity()
    )
    with streaming_pipeline() as p:
        written, _ = decisions(p | stream, sketch_paths=sketch_paths, index_paths=index_paths)
        assert_that(
            written,
            equal_to([(copy.article_id, row["article_id"], "near-text", True, row["story_id"])]),
        )
