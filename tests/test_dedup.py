"""Stage "dedup": canonical URLs, stable ids, exact duplicates within a run and against earlier runs."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.util import assert_that, equal_to

from newsbeam.transforms.dedup import (
    Deduplicate,
    IndexEntry,
    canonical_url,
    identity_keys,
    make_article_id,
    registered_domain,
    text_fingerprint,
)
from newsbeam.transforms.records import Article
from tests.conftest import FETCHED_AT, make_test_pipeline

RUN_AT = dt.datetime(2024, 5, 22, 6, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.com/world/story-1", "https://example.com/world/story-1"),
        ("http://example.com/world/story-1/", "https://example.com/world/story-1"),
        (
            "https://m.example.com/world/story-1?utm_source=rss&utm_medium=feed",
            "https://example.com/world/story-1",
        ),
        ("https://example.com/world/story-1#comments", "https://example.com/world/story-1"),
        ("https://example.com/world/story-1/amp/", "https://example.com/world/story-1"),
        ("https://amp.example.com/world/story-1?fbclid=abc&gclid=x", "https://example.com/world/story-1"),
        ("https://EXAMPLE.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?id=7&utm_campaign=x", "https://example.com/a?id=7"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/", "https://example.com/"),
    ],
)
def test_canonical_url_normalises_variants_of_one_address(url, expected):
    assert canonical_url(url) == expected


def test_canonical_url_keeps_what_identifies_a_different_page():
    assert canonical_url("https://example.com/a?id=7") != canonical_url("https://example.com/a?id=8")
    assert canonical_url("https://example.com/a") != canonical_url("https://example.com/b")
    assert canonical_url("tag:example.com,2024:story-9") == "tag:example.com,2024:story-9"
    assert canonical_url("") is None
    assert canonical_url(None) is None


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://www.bbc.co.uk/news/world", "bbc.co.uk"),
        ("https://edition.cnn.com/2024/05/16/x", "cnn.com"),
        ("https://www.lemonde.fr/international/", "lemonde.fr"),
        ("https://news.example.com.au/x", "example.com.au"),
        ("http://reader:secret@news.example.co.uk:8080/x?y=1", "example.co.uk"),
        ("https://192.0.2.7/feed", "192.0.2.7"),
        ("example.org/no/scheme", "example.org"),
        ("file:///srv/feeds/world.xml", None),
    ],
)
def test_registered_domain_uses_the_public_suffix_list(url, domain):
    assert registered_domain(url) == domain


def test_article_id_is_stable_and_prefers_the_url():
    a = make_article_id("https://example.com/a", "guid-1", "https://feed", "T", "B")
    assert a == make_article_id("https://example.com/a", "other-guid", "https://other-feed", "X", "Y")
    assert len(a) == 32 and int(a, 16) >= 0
    by_guid = make_article_id(None, "guid-1", "https://feed", "T", "B")
    assert by_guid != make_article_id(None, "guid-1", "https://another-feed", "T", "B")
    assert make_article_id(None, None, "f", "Title", "Body") == text_fingerprint("Title", "Body")


def test_text_fingerprint_ignores_case_spacing_and_punctuation():
    assert text_fingerprint("Storm hits coast", "Winds of 150 km/h.\n\nMany flee!") == text_fingerprint(
        "STORM  hits coast", "Winds of 150 km/h   many flee"
    )
    assert text_fingerprint("Storm hits coast", "Winds of 150 km/h") != text_fingerprint(
        "Storm hits coast", "Winds of 160 km/h"
    )


def article(url: str | None, *, guid=None, feed="https://feed-a/rss", title="T", body="B", published=None):
    canonical = canonical_url(url)
    article_id = make_article_id(canonical, guid, feed, title, body)
    return Article(
        article_id=article_id,
        url=canonical,
        source=registered_domain(canonical),
        feed_url=feed,
        title=title,
        body=body,
        fetched_at=FETCHED_AT,
        published_at=published,
        story_id=article_id,
        guid=guid,
    )


def test_identity_keys_cover_url_guid_and_text():
    keys = identity_keys(article("https://x.com/a", guid="g1", title="Hello", body="World"))
    assert sorted(k.split(":", 1)[0] for k in keys) == ["guid", "text", "url"]
    assert identity_keys(article(None, title="Hello", body="World")) == [
        f"text:{text_fingerprint('Hello', 'World')}"
    ]


def test_exact_duplicates_within_a_run_are_written_once():
    early = dt.datetime(2024, 5, 16, 8, tzinfo=dt.UTC)
    later = dt.datetime(2024, 5, 16, 9, tzinfo=dt.UTC)
    original = article("https://a.com/story", title="Quake", body="A quake struck.", published=early)
    tracked = article(
        "https://a.com/story?utm_source=rss",
        feed="https://feed-b/rss",
        title="Quake",
        body="A quake struck.",
        published=later,
    )
    same_text_elsewhere = article(
        "https://aggregator.com/x/1", title="Quake", body="A quake  struck!", published=later
    )
    repeated_guid = article(None, guid="item-9", title="Other", body="Another story.", published=later)
    repeated_guid_again = dataclasses.replace(repeated_guid)
    distinct = article("https://a.com/other", title="Vote", body="People voted.", published=later)
    with make_test_pipeline() as p:
        seen = p | "NoIndex" >> beam.Create([])
        out = (
            p
            | beam.Create(
                [tracked, same_text_elsewhere, original, repeated_guid, repeated_guid_again, distinct]
            )
            | Deduplicate(seen, RUN_AT)
        )
        assert_that(
            out.main | beam.Map(lambda a: a.article_id),
            equal_to([original.article_id, repeated_guid.article_id, distinct.article_id]),
            label="survivors",
        )
        # every identity key of the run is remembered once, pointing at the key's survivor
        assert_that(
            out.index | beam.Map(lambda e: (e.key.split(":", 1)[0], e.article_id)),
            equal_to(
                [
                    ("url", original.article_id),  # original and tracked share it
                    ("url", same_text_elsewhere.article_id),
                    ("url", distinct.article_id),
                    ("text", original.article_id),
                    ("text", repeated_guid.article_id),
                    ("text", distinct.article_id),
                    ("guid", repeated_guid.article_id),
                ]
            ),
            label="index",
        )


def test_the_order_of_feeds_does_not_change_which_copy_is_kept():
    early = dt.datetime(2024, 5, 16, 8, tzinfo=dt.UTC)
    first = article("https://a.com/1", title="Same", body="Same text.", published=early)
    second = article(
        "https://b.com/1", title="Same", body="Same text.", published=early + dt.timedelta(hours=1)
    )
    for order in ([first, second], [second, first]):
        with make_test_pipeline() as p:
            seen = p | "NoIndex" >> beam.Create([])
            out = p | beam.Create(order) | Deduplicate(seen, RUN_AT)
            assert_that(out.main | beam.Map(lambda a: a.article_id), equal_to([first.article_id]))


def test_one_item_listed_twice_with_edits_keeps_the_same_copy_whatever_the_order(tmp_path):
    # a feed repeating an item (one URL, so one id) with an edited body: the copy written, and the text
    # its sketch is made of, must not depend on which copy arrives first
    early = dt.datetime(2024, 5, 16, 8, tzinfo=dt.UTC)
    words = " ".join(f"word{i}" for i in range(80))
    first = article("https://a.com/1", title="Same", body=f"First version. {words}", published=early)
    edited = dataclasses.replace(first, body=f"Edited version. {words}")
    for n, order in enumerate(([first, edited], [edited, first])):
        with make_test_pipeline() as p:
            seen = p | "NoIndex" >> beam.Create([])
            out = p | beam.Create(order) | Deduplicate(seen, RUN_AT)
            kept = out.main | "Body" >> beam.Map(lambda a: a.body[:14])
            signatures = out.sketches | "Signature" >> beam.Map(lambda e: e.signature.hex())
            kept | "WriteBody" >> beam.io.WriteToText(str(tmp_path / f"body{n}"), shard_name_template="")
            signatures | "WriteSig" >> beam.io.WriteToText(str(tmp_path / f"sig{n}"), shard_name_template="")
    for name in ("body", "sig"):
        runs = [(tmp_path / f"{name}{n}").read_text().splitlines() for n in (0, 1)]
        assert len(runs[0]) == 1 and runs[0] == runs[1], (name, runs)


def test_articles_seen_by_an_earlier_run_are_not_written_again():
    old = article("https://a.com/1", title="Old", body="Seen yesterday.")
    new = article("https://a.com/2", title="New", body="Fresh today.")
    yesterday = RUN_AT - dt.timedelta(days=1)
    seen_rows = [(key, (old.article_id, yesterday)) for key in identity_keys(old)]
    with make_test_pipeline() as p:
        seen = p | "Index" >> beam.Create(seen_rows)
        out = p | beam.Create([old, new]) | Deduplicate(seen, RUN_AT)
        assert_that(out.main | beam.Map(lambda a: a.article_id), equal_to([new.article_id]), label="written")
        # the old article's keys are refreshed (seen again on a new day), the new one's are added
        assert_that(
            out.index | beam.Map(lambda e: (e.article_id, e.seen_at)),
            equal_to([(old.article_id, RUN_AT)] * 2 + [(new.article_id, RUN_AT)] * 2),
            label="index",
        )


def test_keys_seen_earlier_today_are_not_rewritten():
    old = article("https://a.com/1", title="Old", body="Seen this morning.")
    seen_rows = [(key, (old.article_id, RUN_AT - dt.timedelta(hours=1))) for key in identity_keys(old)]
    with make_test_pipeline() as p:
        seen = p | "Index" >> beam.Create(seen_rows)
        out = p | beam.Create([old]) | Deduplicate(seen, RUN_AT)
        assert_that(out.main, equal_to([]), label="written")
        assert_that(out.index, equal_to([]), label="index")


def test_index_entry_row_matches_its_schema():
    from newsbeam.transforms.dedup import INDEX_SCHEMA

    assert list(IndexEntry("k", "a", RUN_AT).to_row()) == INDEX_SCHEMA.names


# -- near-duplicates: sketches -------------------------------------------------------------------------

from newsbeam.transforms import neardup  # noqa: E402
from newsbeam.transforms.dedup import (  # noqa: E402
    SKETCH_SCHEMA,
    DedupSettings,
    SketchEntry,
    sketch_entries,
    sketch_entries_or_none,
)
from newsbeam.transforms.stories import StoryDoc, StorySettings, cluster_stories, story_terms  # noqa: E402

ORIGINAL = (
    "A magnitude 6.4 earthquake struck near the coastal city of Izmir on Tuesday, killing at least 17 "
    "people and damaging 340 buildings, civil protection chief Amara Demir said.\n\n"
    "The quake hit at a depth of 12 kilometres and was followed by more than 80 aftershocks, the national "
    "seismology institute said. Schools in the province will stay closed until Friday.\n\n"
    '"We heard a roar and then the walls came down," said Selin Uzun, a shopkeeper in the Bornova '
    "district, who spent the night outside with her two children.\n\n"
    "The government released emergency funds and sent soldiers to clear roads blocked by landslides."
)
# the same story as another outlet runs it: a dateline, one paragraph dropped, a sentence reworded,
# its own boilerplate
EDITED = (
    "IZMIR (Daily Meridian) - A magnitude 6.4 earthquake struck near the coastal city of Izmir on "
    "Tuesday, killing at least 17 people and damaging 340 buildings, civil protection chief Amara Demir "
    "told reporters.\n\n"
    "The quake hit at a depth of 12 kilometres and was followed by more than 80 aftershocks, the national "
    "seismology institute said. Schools in the province will stay closed until Friday.\n\n"
    "The government released emergency funds and sent soldiers to clear roads blocked by landslides.\n\n"
    "Sign up for our morning briefing"
)
# another earthquake told in the same house style: a different event, never a near-duplicate
OTHER_QUAKE = (
    "A magnitude 5.9 earthquake struck near the inland city of Konya on Wednesday, killing at least 4 "
    "people and damaging 85 buildings, regional governor Kemal Yilmaz said.\n\n"
    "The quake hit at a depth of 9 kilometres and was followed by more than 30 aftershocks, the national "
    "seismology institute said. Schools in the province will stay closed until Monday.\n\n"
    '"Everything fell from the shelves at once," said Nuri Gashi, a baker in the Meram district, who '
    "spent the night in his car.\n\n"
    "The government released emergency funds and sent soldiers to clear roads blocked by landslides."
)


def shingle_set(text: str, k: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.casefold())
    return {tuple(words[i : i + k]) for i in range(len(words) - k + 1)}


def test_sketches_are_the_same_whatever_the_batch_and_its_order():
    alone = [neardup.sketches([text])[0] for text in (ORIGINAL, EDITED, OTHER_QUAKE)]
    batch = neardup.sketches([OTHER_QUAKE, ORIGINAL, EDITED])
    for single, batched in zip(alone, [batch[1], batch[2], batch[0]], strict=True):
        assert np.array_equal(single.signature, batched.signature) and single.size == batched.size
        assert np.array_equal(single.facts, batched.facts)


def test_the_signature_estimates_the_jaccard_similarity_of_the_shingle_sets():
    words = [f"w{i}" for i in range(1000)]
    for overlap in (900, 700, 400):
        a, b = neardup.sketches(
            [" ".join(words[: overlap + 100]), " ".join(words[100 : 100 + overlap + 100])]
        )
        truth = (overlap - 4) / (overlap + 200 - 4)  # 5-word shingles of two overlapping word ranges
        assert abs(neardup.jaccard(a.signature, b.signature) - truth) < 0.12


def test_short_texts_get_no_signature_and_are_never_near_duplicates():
    short = neardup.sketches(["Storm hits coast; thousands without power."])[0]
    assert short.signature.size == 0 and short.size == 0
    assert neardup.near_duplicate_similarity(short, short, 0.6) == 0.0


def test_an_edited_copy_is_a_near_duplicate_and_a_look_alike_event_is_not():
    original, edited, other = neardup.sketches([ORIGINAL, EDITED, OTHER_QUAKE])
    copy_score = neardup.near_duplicate_similarity(edited, original, 0.6)
    assert copy_score >= DedupSettings().near_duplicate_threshold
    assert neardup.fact_overlap(other.facts, original.facts) < 0.6  # different names and figures
    assert neardup.near_duplicate_similarity(other, original, 0.6) == 0.0
    # what the text alone says: the look-alike shares the house style, which is why facts gate the link
    shared = len(shingle_set(OTHER_QUAKE) & shingle_set(ORIGINAL)) / len(shingle_set(OTHER_QUAKE))
    assert shared > 0.2


def test_fact_words_are_names_inside_sentences_and_figures():
    assert (
        neardup.fact_words('Officials in Chile said 12 died. The "quake" hit Valparaiso.')
        == "Chile 12 Valparaiso"
    )


def test_candidate_pairs_are_bounded_and_point_to_better_ranked_members():
    members = [(f"a{i}", (True, False, float(i), f"a{i}")) for i in range(100)]
    pairs = neardup.candidate_pairs(reversed(members), limit=3)
    assert len(pairs) == 0 + 1 + 2 + 3 * 97  # each member meets at most 3 earlier ones, not 99
    assert all(int(later[1:]) > int(earlier[1:]) for later, earlier in pairs)
    assert neardup.pick_original([("b", (1,), 0.9), ("a", (0,), 0.7), ("c", (-1,), 0.2)], 0.5) == ("a", 0.7)
    assert neardup.pick_original([("c", (0,), 0.2)], 0.5) is None


def _sketch(signature: np.ndarray, facts=(1, 2, 3), size: int = 500) -> neardup.Sketch:
    return neardup.Sketch(signature.astype(np.uint32), size, np.array(sorted(facts), dtype=np.uint64))


def _one_pair_at_a_time(docs, bands, threshold, fact_threshold, limit=16):
    """What the composite computes, step by step: a bucket per band key, `candidate_pairs` per bucket,
    then `pick_original` over `near_duplicate_similarity`, one pair at a time (the code before the
    vectorised path, kept as the reference)."""
    buckets: dict[int, list] = {}
    for article_id, rank, sketch in docs:
        for key in neardup.band_keys(sketch.signature, bands):
            buckets.setdefault(key, []).append((article_id, rank))
    candidates: dict[str, set[str]] = {}
    for members in buckets.values():
        for later, earlier in neardup.candidate_pairs(members, limit):
            candidates.setdefault(later, set()).add(earlier)
    by_id = {d[0]: d for d in docs}
    found = {}
    for article_id, originals in candidates.items():
        scored = [
            (
                o,
                by_id[o][1],
                neardup.near_duplicate_similarity(by_id[article_id][2], by_id[o][2], fact_threshold),
            )
            for o in originals
        ]
        chosen = neardup.pick_original(scored, threshold)
        if chosen is not None:
            found[article_id] = chosen
    return found


def crowded_bucket(members=200, seed=7):
    """`members` unrelated texts whose first band is one template's (one bucket of `members`), the 5th
    best-ranked of them copied by the 180th with one value changed in every other band: the crowded band
    is the only band the two share, so only that bucket can pair them."""
    rng = np.random.default_rng(seed)
    signatures = rng.integers(0, 2**32, size=(members, neardup.NUM_PERM), dtype=np.uint64)
    signatures[:, :4] = signatures[0, :4]  # band 0 (4 rows of 32 bands): one bucket for all
    copy = signatures[4].copy()
    copy[4::4] += 1  # the first row of every other band
    signatures[179] = copy
    docs = [
        (f"a{i:03d}", (True, False, float(i), f"a{i:03d}"), _sketch(signatures[i])) for i in range(members)
    ]
    for i in range(members):  # facts of their own, but the copy keeps its original's
        if i != 179:
            docs[i] = (
                docs[i][0],
                docs[i][1],
                _sketch(signatures[i], facts=(10 * i + 1, 10 * i + 2, 10 * i + 3)),
            )
    docs[179] = (docs[179][0], docs[179][1], _sketch(copy, facts=(41, 42, 43)))
    return docs


def test_a_crowded_bucket_still_links_a_copy_of_a_best_ranked_member():
    docs = crowded_bucket()
    found = neardup.find_near_duplicates(docs, bands=32, threshold=0.5, fact_threshold=0.6)
    assert found == {"a179": ("a004", pytest.approx(97 / 128 * 1000 / (1 + 97 / 128) / 500))}
    assert found == _one_pair_at_a_time(docs, 32, 0.5, 0.6)
    shuffled = [docs[i] for i in np.random.default_rng(1).permutation(len(docs))]
    assert neardup.find_near_duplicates(shuffled, bands=32, threshold=0.5, fact_threshold=0.6) == found


def test_the_vectorised_path_decides_as_one_pair_at_a_time():
    # many near-copies with edits of every size, facts that agree or not, ranks with ties broken by id,
    # short texts, and a small signature alphabet so that chance collisions crowd the buckets
    rng = np.random.default_rng(3)
    originals = rng.integers(0, 6, size=(60, neardup.NUM_PERM))
    docs = []
    for i in range(240):
        base = originals[i % 60].copy()
        edits = rng.integers(0, 90)
        base[rng.choice(neardup.NUM_PERM, edits, replace=False)] = rng.integers(0, 2**31, edits)
        facts = (i % 60, 100 + i % 60, 200 + i % 60) if rng.random() < 0.7 else (i, 1000 + i)
        sketch = _sketch(base, facts=facts, size=int(rng.integers(50, 900)))
        if i % 37 == 0:
            sketch = neardup.Sketch(np.empty(0, np.uint32), 0, sketch.facts)
        docs.append((f"d{i:03d}", (True, False, float(i // 3), f"d{i:03d}"), sketch))
    for bands, limit in ((32, 16), (16, 3)):
        found = neardup.find_near_duplicates(
            docs, bands=bands, threshold=0.5, fact_threshold=0.6, limit=limit
        )
        assert len(found) > 15
        assert found == _one_pair_at_a_time(docs, bands, 0.5, 0.6, limit)


def test_bucket_pairs_are_candidate_pairs_of_every_bucket():
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 40, size=(300, 4)).astype(np.uint64)  # 40 keys: buckets of ~30 members
    later, earlier = neardup.bucket_pairs(keys, limit=5)
    expected = set()
    for key in np.unique(keys):
        members = [(str(i), (i,)) for i in range(300) if key in keys[i]]
        expected |= {(int(a), int(b)) for a, b in neardup.candidate_pairs(members, 5)}
    assert set(zip(later.tolist(), earlier.tolist(), strict=True)) == expected
    assert len(later) == len(expected)  # each pair once, however many buckets it shares


def test_verifying_all_candidates_at_once_picks_what_pairs_one_by_one_pick():
    original = neardup.sketches([ORIGINAL])[0]
    edited, other = neardup.sketches([EDITED, OTHER_QUAKE])
    # the best-ranked candidate whose text passes but facts do not must give way to the next one
    no_facts = neardup.Sketch(original.signature, original.size, np.array([7, 8, 9], dtype=np.uint64))
    candidates = [("b", (2,), original), ("a", (1,), no_facts), ("c", (0,), other), ("e", (3,), edited)]
    expected = neardup.pick_original(
        [(i, r, neardup.near_duplicate_similarity(edited, s, 0.6)) for i, r, s in candidates], 0.5
    )
    assert expected[0] == "b"
    assert neardup.pick_near_original(edited, candidates, 0.5, 0.6) == expected
    assert neardup.pick_near_original(edited, candidates[1:3], 0.5, 0.6) is None
    short = neardup.sketches(["Storm hits coast."])[0]
    assert neardup.pick_near_original(short, candidates, 0.5, 0.6) is None
    assert neardup.pick_near_original(edited, [("s", (0,), short)], 0.5, 0.6) is None


def test_band_keys_of_a_batch_are_those_of_each_signature():
    signatures = np.stack([s.signature for s in neardup.sketches([ORIGINAL, EDITED, OTHER_QUAKE])])
    for bands in (16, 32, 64):
        matrix = neardup.band_key_matrix(signatures, bands)
        assert [row.tolist() for row in matrix] == [neardup.band_keys(s, bands) for s in signatures]
        assert {key >> 56 for key in matrix[0].tolist()} == set(range(bands))  # the band in the top byte


# -- stories ---------------------------------------------------------------------------------------------


def quake_doc(article_id, hours, title, lead, countries=("TR",), places=("Izmir",), duplicate_of=None):
    return StoryDoc(
        article_id, hours * 3600.0, story_terms(title, None, lead), countries, places, duplicate_of
    )


def test_stories_group_one_event_and_keep_look_alike_events_apart():
    docs = [
        quake_doc("a1", 0, "Magnitude 6.4 quake strikes near Izmir", ORIGINAL),
        quake_doc("a2", 2, "17 dead as strong quake shakes Turkey's Izmir region", EDITED),
        quake_doc(
            "a3",
            5,
            "Izmir earthquake: rescuers search rubble",
            "Rescuers searched the rubble near Izmir after a magnitude 6.4 quake struck on Tuesday, "
            "killing at least 17 people, civil protection chief Amara Demir said.",
        ),
        # the same topic in the same country a day later, in another city: another story
        quake_doc("b1", 26, "Magnitude 5.9 quake strikes near Konya", OTHER_QUAKE, places=("Konya",)),
        # the same wording in another country: another story
        quake_doc("c1", 3, "Magnitude 6.4 quake strikes near Izmir", ORIGINAL, countries=("GR",), places=()),
    ]
    stories = cluster_stories(docs)
    assert stories["a1"] == stories["a2"] == stories["a3"] == "a1"
    assert stories["b1"] == "b1" and stories["c1"] == "c1"
    for order in (docs[::-1], docs[2:] + docs[:2]):
        assert cluster_stories(order) == stories


def test_a_story_closes_after_its_window_and_near_duplicates_follow_their_original():
    first = quake_doc("a1", 0, "Magnitude 6.4 quake strikes near Izmir", ORIGINAL)
    late = quake_doc("a9", 100, "Magnitude 6.4 quake strikes near Izmir", ORIGINAL)
    copy = quake_doc("z1", 1, "Unrelated headline", "Completely different words here.", duplicate_of="a1")
    stories = cluster_stories([first, late, copy], settings=StorySettings(window_hours=72))
    assert stories == {"a1": "a1", "a9": "a9", "z1": "a1"}


def test_a_storys_norm_is_kept_as_its_centroid_grows():
    from newsbeam.transforms.stories import _Story

    story = _Story("s", 0.0)
    rng = np.random.default_rng(2)
    for n in range(300):
        vec = {f"t{int(t)}": float(rng.random()) for t in rng.integers(0, 400, 20)}
        story.add(vec, StoryDoc(f"a{n}", float(n), vec))
    assert story.norm == pytest.approx(np.sqrt(sum(v * v for v in story.centroid.values())), rel=1e-12)


def test_earlier_runs_stories_are_joined_not_judged():
    earlier = StoryDoc(
        "old",
        0.0,
        story_terms("Quake strikes near Izmir", None, ORIGINAL),
        ("TR",),
        ("Izmir",),
        None,
        "story-x",
    )
    new = quake_doc("new", 3, "Magnitude 6.4 quake strikes near Izmir", EDITED)
    assert cluster_stories([new], [earlier]) == {"new": "story-x"}


def test_settings_are_validated():
    with pytest.raises(ValueError, match="lsh_bands"):
        DedupSettings(lsh_bands=30)
    with pytest.raises(ValueError, match="near_duplicate_threshold"):
        DedupSettings(near_duplicate_threshold=0)
    with pytest.raises(ValueError, match="threshold"):
        StorySettings(threshold=1.5)


# -- the composite: near-duplicates, stories, across runs ---------------------------------------------------


def _news(url, title, body, hours, feed="https://feed-a/rss", countries=("TR",), places=(("Izmir", "TR"),)):
    from newsbeam.transforms.records import Place

    a = article(url, feed=feed, title=title, body=body, published=RUN_AT - dt.timedelta(hours=48 - hours))
    return dataclasses.replace(
        a, language="en", countries=countries, places=tuple(Place(n, c, 1) for n, c in places)
    )


@contextlib.contextmanager
def deduplicated(articles, settings=None, earlier=()):
    """The composite's outputs inside a running test pipeline (assertions go in the `with` block)."""
    with make_test_pipeline() as p:
        seen = p | "NoIndex" >> beam.Create([])
        sketches = p | "Earlier" >> beam.Create(list(earlier))
        yield p | beam.Create(articles) | Deduplicate(seen, RUN_AT, settings or DedupSettings(), sketches)


def test_near_duplicates_are_linked_to_the_first_copy_and_share_its_story():
    original = _news("https://wire.com/izmir-quake", "Magnitude 6.4 quake strikes near Izmir", ORIGINAL, 0)
    edited = _news(
        "https://meridian.co.uk/izmir", "17 dead as quake shakes Izmir", EDITED, 3, feed="https://feed-b/rss"
    )
    other = _news(
        "https://wire.com/konya-quake",
        "Magnitude 5.9 quake strikes near Konya",
        OTHER_QUAKE,
        30,
        places=(("Konya", "TR"),),
    )
    expected = {
        original.article_id: (None, None, original.article_id),
        edited.article_id: (original.article_id, "near-text", original.article_id),
        other.article_id: (None, None, other.article_id),
    }
    with make_test_pipeline() as p:  # both orders in one pipeline: a pipeline costs seconds to start
        seen = p | "NoIndex" >> beam.Create([])
        earlier = p | "NoSketches" >> beam.Create([])
        for n, order in enumerate(([original, edited, other], [other, edited, original])):
            out = (
                p
                | f"Articles{n}" >> beam.Create(order)
                | f"Deduplicate{n}" >> Deduplicate(seen, RUN_AT, DedupSettings(), earlier)
            )
            assert_that(
                out.main
                | f"Decisions{n}"
                >> beam.Map(lambda a: (a.article_id, (a.duplicate_of, a.dedup_reason, a.story_id))),
                equal_to(list(expected.items())),
                label=f"decisions{n}",
            )
            assert_that(
                out.sketches | f"Sketches{n}" >> beam.Map(lambda e: (e.article_id, e.story_id, e.seen_at)),
                equal_to([(i, story, RUN_AT) for i, (_, _, story) in expected.items()]),
                label=f"sketches{n}",
            )


def test_drop_near_duplicates_leaves_them_out():
    original = _news("https://wire.com/izmir-quake", "Magnitude 6.4 quake strikes near Izmir", ORIGINAL, 0)
    edited = _news("https://meridian.co.uk/izmir", "17 dead as quake shakes Izmir", EDITED, 3)
    with deduplicated([edited, original], DedupSettings(drop_near_duplicates=True)) as out:
        assert_that(out.main | beam.Map(lambda a: a.article_id), equal_to([original.article_id]))
        assert_that(
            out.sketches | beam.Map(lambda e: e.article_id), equal_to([original.article_id]), label="s"
        )


def test_an_article_whose_sketch_fails_is_written_once_as_its_own_story():
    """Without a sketch an article is still kept (no sketch entry, no near-duplicate, a story of its own),
    and its exact copy is still dropped."""
    original = _news("https://wire.com/izmir-quake", "Magnitude 6.4 quake strikes near Izmir", ORIGINAL, 0)
    # a language that is no string: the sketch (its story group) fails, the identity keys do not
    odd = dataclasses.replace(_news("https://meridian.co.uk/izmir", "17 dead", EDITED, 3), language=7)
    copy = dataclasses.replace(odd, feed_url="https://feed-b/rss")
    assert sketch_entries_or_none([odd], DedupSettings()) == ([], 1)
    with deduplicated([copy, original, odd]) as out:
        assert_that(
            out.main | beam.Map(lambda a: (a.article_id, a.duplicate_of, a.story_id)),
            equal_to(
                [(original.article_id, None, original.article_id), (odd.article_id, None, odd.article_id)]
            ),
        )
        assert_that(
            out.sketches | beam.Map(lambda e: e.article_id), equal_to([original.article_id]), label="s"
        )


def test_a_copy_of_an_article_of_an_earlier_run_links_to_it_and_joins_its_story():
    yesterday = _news("https://wire.com/izmir-quake", "Magnitude 6.4 quake strikes near Izmir", ORIGINAL, 0)
    (entry,) = sketch_entries([yesterday], DedupSettings())
    # the earlier run wrote it, as its own story; read back through the index schema
    row = dataclasses.replace(entry, story_id="story-1", seen_at=RUN_AT - dt.timedelta(days=1)).to_row()
    import pyarrow as pa

    stored = SketchEntry.from_row(pa.Table.from_pylist([row], schema=SKETCH_SCHEMA).to_pylist()[0])
    assert stored.sketch.signature.tolist() == entry.sketch.signature.tolist()
    today = _news("https://meridian.co.uk/izmir", "17 dead as quake shakes Izmir", EDITED, 30)
    follow_up = _news(
        "https://wire.com/izmir-toll",
        "Izmir quake: rescuers search rubble",
        "Rescuers searched the rubble near Izmir after a magnitude 6.4 quake struck on Tuesday, killing at "
        "least 17 people, civil protection chief Amara Demir said.",
        31,
    )
    with deduplicated([follow_up, today], earlier=[stored]) as out:
        assert_that(
            out.main | beam.Map(lambda a: (a.article_id, a.duplicate_of, a.story_id)),
            equal_to(
                [
                    (today.article_id, yesterday.article_id, "story-1"),
                    (follow_up.article_id, None, "story-1"),
                ]
            ),
        )


def test_earlier_runs_band_rows_are_joined_only_where_this_run_has_articles():
    from apache_beam.metrics.metric import MetricsFilter

    yesterday = _news("https://wire.com/izmir-quake", "Magnitude 6.4 quake strikes near Izmir", ORIGINAL, 0)
    konya = _news("https://wire.com/konya-quake", "Quake strikes near Konya", OTHER_QUAKE, 1)
    earlier = [
        dataclasses.replace(e, story_id=e.article_id, seen_at=RUN_AT - dt.timedelta(days=1))
        for e in sketch_entries([yesterday, konya], DedupSettings())
    ]
    today = _news("https://meridian.co.uk/izmir", "17 dead as quake shakes Izmir", EDITED, 30)
    (new,) = sketch_entries([today], DedupSettings())
    today_keys = set(neardup.band_keys(new.sketch.signature, 32))
    shared = sum(len(set(neardup.band_keys(e.sketch.signature, 32)) & today_keys) for e in earlier)
    assert 0 < shared < 32  # the copy shares some of its original's bands, not all 64 earlier rows

    p = make_test_pipeline()
    out = (
        p
        | beam.Create([today])
        | Deduplicate(
            p | "NoIndex" >> beam.Create([]), RUN_AT, DedupSettings(), p | "Earlier" >> beam.Create(earlier)
        )
    )
    assert_that(
        out.main | beam.Map(lambda a: (a.article_id, a.duplicate_of, a.story_id)),
        equal_to([(today.article_id, yesterday.article_id, yesterday.article_id)]),
    )
    result = p.run()
    result.wait_until_finish()
    joined = result.metrics().query(MetricsFilter().with_name("lookback_band_rows"))["counters"]
    assert sum(c.committed for c in joined) == shared


# -- Conformance of the fast text paths (issue 10): the implementations they replaced, kept here only as the
# reference. Fingerprints are persisted in _state and compared across runs: they must not change by a bit.

import hashlib  # noqa: E402
import json  # noqa: E402
import unicodedata  # noqa: E402

from newsbeam.transforms.clean import _paragraph_keys, paragraph_key  # noqa: E402
from newsbeam.transforms.dedup import normalised_text  # noqa: E402
from newsbeam.transforms.stories import StoryClusterer  # noqa: E402
from tests.conftest import DATA  # noqa: E402

_REFERENCE_WORD = re.compile(r"\w+")


def _reference_normalised_text(title: str, body: str) -> str:
    text = unicodedata.normalize("NFKC", f"{title}\n{body}").casefold()
    return " ".join(_REFERENCE_WORD.findall(text))


def _reference_paragraph_key(paragraph: str) -> bytes:
    words = " ".join(_REFERENCE_WORD.findall(paragraph.casefold()))
    return hashlib.blake2b(words.encode("utf-8"), digest_size=8).digest()


TRICKY_TEXTS = [
    "",
    " ",
    "...",
    "a",
    "A",
    "Storm HITS the coast! 4,000 homes without power.",
    "  leading and trailing spaces  ",
    "snake_case __init__ _ __ a_1 _9",
    "don't O'Brien O’Brien rock'n'roll 'quoted' ‘single’ “double” «guillemets» „low“",
    "Straße STRASSE İstanbul ΣΟΦΙΑ σοφία ς ﬁnal ﬀ ǅ ǈ",
    "café cafe\u0301 CAFE\u0301 n\u0303o \u0301lone ¨ ´ ¸ ˘",
    "digits 6.4 6,4 1/2 ½ ¼ x² ³ ¹ ٣٤٥ ०१२ ⅷ Ⅻ ①",
    "中文字 日本語のテキスト 한국어 ไทย עברית العربية",
    "emoji 😀 🇫🇷 𝐁𝐨𝐥𝐝 𝟙𝟚 astral 𐐀𐐨",
    "spaces\u00a0nbsp\u2003em\u3000ideo\u202fnarrow\u2009thin\x1cfs\x85nel\u2028ls\ttab\r\ncrlf",
    'First. Second! Third? Fourth: Fifth; "Sixth" (Seventh) “Eighth” «Ninth» Tenth—eleventh…Twelfth',
    "lone \ud800 surrogate \udfff end",
    "\n\nopening breaks\n\n\n\nfour breaks\n\n\n",
    "Mr. Smith met Ms. Jones in the U.S. on Monday. The U.N. said 12 people died.",
]


def _fuzz_texts(seed: int, count: int, ascii_only: bool) -> list[str]:
    import random

    rng = random.Random(seed)
    words = ["Storm", "hits", "the", "COAST", "4,000", "6.4", "U.S.", "don't", "a", "I", "x_y", "__", "2024"]
    gaps = [" ", "  ", "\n", "\n\n", "\t", ". ", "! ", "? ", ": ", "; ", '"', "(", ")", ", ", "-", "'", "_"]
    if not ascii_only:
        words += [
            "O’Brien",
            "Straße",
            "İzmir",
            "ΣΟΦΙΑ",
            "ﬁnal",
            "¼",
            "x²",
            "٣٤",
            "中文",
            "😀",
            "e\u0301",
            "Édith",
        ]
        words += ["\u0301", "¨", "ǅungla", "\ud800"]
        gaps += ["\xa0", "\u2003", "\u3000", "\x1c", "\x85", "“", "”", "«", "»", "—", "…", "’", "\u200b"]
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randrange(0, 120)):
            parts.append(rng.choice(words))
            parts.append(rng.choice(gaps) if rng.random() < 0.8 else "".join(rng.choices(gaps, k=3)))
        texts.append("".join(parts[rng.randrange(0, 2) :]))
    return texts


def _conformance_texts() -> list[str]:
    generated = []
    for name in ("syndication.jsonl", "stories.jsonl"):
        lines = (DATA / "dedup" / name).read_text(encoding="utf-8").splitlines()[:60]
        for row in map(json.loads, lines):
            generated += [row["title"], row["body"]]
    fuzz = _fuzz_texts(10, 150, ascii_only=True) + _fuzz_texts(11, 300, ascii_only=False)
    return TRICKY_TEXTS + generated + fuzz


def test_text_keys_are_those_of_the_reference_implementation():
    texts = _conformance_texts()
    for title, body in zip(texts, [*texts[1:], texts[0]], strict=True):
        assert normalised_text(title, body) == _reference_normalised_text(title, body), (title, body)
        assert (
            text_fingerprint(title, body)
            == hashlib.blake2b(
                f"text\x1f{_reference_normalised_text(title, body)}".encode(), digest_size=16
            ).hexdigest()
        )
    for text in texts:
        assert paragraph_key(text) == _reference_paragraph_key(text), text
        article = _news("https://example.com/x", "Title", text, 0)
        assert _paragraph_keys(article)[1][1] == frozenset(
            _reference_paragraph_key(p) for p in article.body.split("\n\n") if p
        ), text
    for start in range(0, len(texts), 37):  # batches: no word or space leaks from one text to the next
        batch = texts[start : start + 37]
        assert neardup.folded_words(batch) == [" ".join(_REFERENCE_WORD.findall(t.casefold())) for t in batch]


def _reference_story_terms(title, summary, body, settings):
    from newsbeam.transforms.stories import STOP_WORDS

    sentence_end = frozenset('.!?:;"“”«»(')

    def terms_of(text, weight, into):
        previous_end = 0
        for match in _REFERENCE_WORD.finditer(text):
            raw = match.group()
            token = raw.casefold()
            between = text[previous_end : match.start()].strip()
            sentence_start = previous_end == 0 or (between[-1:] in sentence_end if between else False)
            previous_end = match.end()
            if token in STOP_WORDS or (len(token) < 2 and not token.isdigit()):
                continue
            w = weight
            if any(c.isdigit() for c in token):
                w *= settings.number_weight
            elif raw[0].isupper() and not sentence_start:
                w *= settings.name_weight
            into[token] = into.get(token, 0.0) + w

    title = unicodedata.normalize("NFKC", title or "")
    lead_source = " ".join(part for part in (summary, body) if part)
    words = unicodedata.normalize("NFKC", lead_source).split()
    lead = " ".join(words[: settings.lead_words])
    terms: dict[str, float] = {}
    terms_of(title, settings.title_weight, terms)
    terms_of(lead, 1.0, terms)
    return terms


def test_story_terms_are_those_of_the_reference_implementation():
    texts = _conformance_texts()
    for settings in (
        StorySettings(),
        StorySettings(lead_words=3, title_weight=1.3, name_weight=0.7, number_weight=2.9),
        StorySettings(lead_words=11, title_weight=0.1, name_weight=3.3, number_weight=0.3),
    ):
        for title, summary, body in zip(texts, [None, *texts[:-1]], [*texts[2:], "", ""], strict=True):
            expected = _reference_story_terms(title, summary, body, settings)
            got = story_terms(title, summary, body, settings)
            # same terms in the same order (the order sums the vector's norm), weights to the bit
            assert list(got.items()) == list(expected.items()), (title, summary, body)


def test_nfkc_keeps_whitespace_a_boundary_and_words_words():
    """What story_terms relies on to normalise only the first words of a long body, checked over every code
    point of this Python's Unicode database: whitespace normalises to whitespace and is in no canonical
    composition, and no other character normalises to nothing but whitespace."""
    for code in range(0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        character = chr(code)
        normalised = unicodedata.normalize("NFKC", character)
        if character.isspace():
            assert normalised.isspace(), hex(code)
        else:
            assert normalised.strip(), hex(code)
        decomposition = unicodedata.decomposition(character)
        if decomposition and not decomposition.startswith("<"):  # canonical: pairs are what composes
            parts = [chr(int(part, 16)) for part in decomposition.split()]
            assert len(parts) == 1 or not any(part.isspace() for part in parts), hex(code)


def _reference_scan(texts):
    """neardup._scan as it was: every word of a batch hashed, with its text and whether it is a fact."""
    word_byte = np.zeros(256, dtype=bool)
    word_byte[np.frombuffer(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", np.uint8)] = (
        True
    )
    word_byte[128:] = True
    lower = np.arange(256, dtype=np.uint8)
    lower[65:91] += 32
    latin1_capital = np.zeros(256, dtype=bool)
    latin1_capital[0x80:0x9F] = True
    latin1_capital[0x97] = False
    digit = np.zeros(256, dtype=bool)
    digit[48:58] = True
    sentence_end = np.zeros(256, dtype=bool)
    sentence_end[np.frombuffer(b'.!?:;"(\n', np.uint8)] = True
    u64 = np.uint64

    def word_mask(data):
        mask = word_byte[data]
        if data.size > 2 and (data >= 0xC2).any():
            lead = np.flatnonzero(data[:-2] == 0xE2)
            lead = lead[(data[lead + 1] == 0x80) | (data[lead + 1] == 0x81)]
            for offset in (0, 1, 2):
                mask[lead + offset] = False
            lead = np.flatnonzero(data[:-1] == 0xC2)
            lead = lead[np.isin(data[lead + 1], (0xA0, 0xA1, 0xAB, 0xBB, 0xBF))]
            mask[lead] = False
            mask[lead + 1] = False
        return mask

    encoded = [neardup._utf8(t) for t in texts]
    data = np.frombuffer(b"\n".join(encoded), dtype=np.uint8)
    nothing = np.empty(0, np.intp)
    if data.size == 0:
        return np.empty(0, u64), nothing, np.empty(0, bool), nothing, nothing, data
    folded = lower[data]
    if data.size > 1:
        lead = np.flatnonzero(data[:-1] == 0xC3)
        lead = lead[latin1_capital[data[lead + 1]]]
        folded[lead + 1] += 32
    else:
        lead = nothing
    positions = np.flatnonzero(word_mask(data))
    if positions.size == 0:
        return np.empty(0, u64), nothing, np.empty(0, bool), nothing, nothing, data
    first = np.empty(positions.size, dtype=bool)
    first[0] = True
    first[1:] = np.diff(positions) != 1
    starts_at = np.flatnonzero(first)
    lengths = np.diff(np.append(starts_at, positions.size))
    within = np.arange(positions.size) - np.repeat(starts_at, lengths)
    weighted = (folded[positions].astype(u64) + u64(1)) * neardup._BYTE_POSITION[within & 63]
    hashes = neardup._mix(np.add.reduceat(weighted, starts_at))
    starts = positions[starts_at]
    ends = positions[starts_at + lengths - 1] + 1
    text_starts = np.cumsum([0] + [len(e) + 1 for e in encoded[:-1]])
    document = np.searchsorted(text_starts, starts, side="right") - 1
    figure = np.add.reduceat(digit[data[positions]].astype(np.int32), starts_at) > 0
    capital = (data[starts] >= 65) & (data[starts] <= 90)
    if lead.size:
        latin = np.zeros(data.size, dtype=bool)
        latin[lead] = True
        capital |= latin[starts]
    previous = starts - 1
    for _ in range(2):
        previous = np.where((previous >= 0) & (data[np.maximum(previous, 0)] == 32), previous - 1, previous)
    before = data[np.maximum(previous, 0)]
    opening = sentence_end[before] | (previous < 0) | (before == 32)
    curly = ((before == 0x9C) | (before == 0x9D)) & (data[np.maximum(previous - 2, 0)] == 0xE2)
    guillemet = ((before == 0xAB) | (before == 0xBB)) & (data[np.maximum(previous - 1, 0)] == 0xC2)
    opening |= (curly | guillemet) & (previous >= 2)
    fact = figure | (capital & ~opening)
    return hashes, document, fact, starts, ends, data


def test_word_scan_of_sketches_is_that_of_the_reference_implementation():
    """Signatures and fact hashes are computed from the scan alone: the same scan, the same sketches."""
    # sketches take encodable text (sketch_entries_or_none logs the rest)
    texts = [t.replace("\ud800", "").replace("\udfff", "") for t in _conformance_texts()]
    batches = [texts[i : i + 23] for i in range(0, len(texts), 23)] + [[t] for t in texts[:40]] + [[]]
    for batch in batches:
        got, expected = neardup._scan(batch), _reference_scan(batch)
        for name, got_field, expected_field in zip(got._fields, got, expected, strict=True):
            assert got_field.dtype == expected_field.dtype, name
            assert np.array_equal(got_field, expected_field), (name, batch)


def _reference_vector(terms, idf, unseen):
    import math

    weighted = {t: (1.0 + math.log(w) if w > 1.0 else w) * idf.get(t, unseen) for t, w in terms.items()}
    norm = math.sqrt(sum(v * v for v in weighted.values())) or 1.0
    return {t: v / norm for t, v in weighted.items()}


def _reference_strongest(vec, k):
    return [t for t, _ in sorted(vec.items(), key=lambda tv: (-tv[1], tv[0]))[:k]]


class _ReferenceClusterer(StoryClusterer):
    """StoryClusterer with its vectors, candidate terms and best story computed as they were."""

    def join(self, doc, story_id):
        from newsbeam.transforms.stories import _Story

        vec = _reference_vector(doc.terms, self._idf, self._unseen)
        story = self._stories.get(story_id)
        if story is None:
            story = self._stories[story_id] = _Story(story_id, doc.at)
        story.add(vec, doc)
        self._story_of[doc.article_id] = story_id
        self._index(story, _reference_strongest(vec, self._settings.candidate_terms))
        return story_id

    def assign(self, doc):
        from newsbeam.transforms.stories import _Story

        if doc.duplicate_of is not None and doc.duplicate_of in self._story_of:
            return self.join(doc, self._story_of[doc.duplicate_of])
        vec = _reference_vector(doc.terms, self._idf, self._unseen)
        strongest = _reference_strongest(vec, self._settings.candidate_terms)
        story = self._best(doc, vec, strongest)
        if story is None:
            story = self._stories[doc.article_id] = _Story(doc.article_id, doc.at)
        story.add(vec, doc)
        self._story_of[doc.article_id] = story.story_id
        self._index(story, strongest)
        return story.story_id

    def _best(self, doc, vec, strongest):
        settings = self._settings
        candidates = set()
        for term in strongest:
            recent = self._by_term.get(term)
            if recent:
                candidates.update(recent)
        best, best_key = None, None
        countries = set(doc.countries[:3])
        for story_id in candidates:
            story = self._stories[story_id]
            if abs(doc.at - story.last_at) > self._window:
                continue
            if (
                settings.require_country_overlap
                and countries
                and story.countries
                and not (countries & story.countries.keys())
            ):
                continue
            if (
                settings.require_place_overlap
                and doc.places
                and story.places
                and doc.places[0] not in story.places
            ):
                continue
            score = (
                sum(v * story.centroid.get(t, 0.0) for t, v in vec.items()) / story.norm
                if story.norm
                else 0.0
            )
            if score < settings.threshold:
                continue
            key = (-score, story_id)
            if best_key is None or key < best_key:
                best, best_key = story, key
        return best


def test_story_clustering_is_that_of_the_reference_implementation():
    import random

    from newsbeam.transforms.stories import idf_table

    rng = random.Random(3)
    texts = [t for t in _conformance_texts() if t.strip()]
    countries = ["TR", "GR", "CL", "FR", ""]
    places = ["Izmir", "Athens", "Santiago", "Lyon", ""]
    docs = []
    for i in range(600):
        title, body = rng.choice(texts[:200]), rng.choice(texts)  # repeated texts: stories form
        docs.append(
            StoryDoc(
                f"a{i:04d}",
                rng.uniform(0, 10 * 86400.0),
                story_terms(title, None, body),
                tuple(c for c in rng.sample(countries, 2) if c),
                tuple(p for p in rng.sample(places, 1) if p),
                f"a{rng.randrange(i):04d}" if i and rng.random() < 0.1 else None,
            )
        )
    earlier, new = docs[:100], sorted(docs[100:], key=lambda d: (d.at, d.article_id))
    for settings in (
        StorySettings(),
        StorySettings(threshold=0.1, require_place_overlap=False, window_hours=24),
    ):
        idf, unseen = idf_table(d.terms for d in docs)
        got, expected = StoryClusterer(settings, idf, unseen), _ReferenceClusterer(settings, idf, unseen)
        for doc in earlier:
            got.remember(doc)
            expected.remember(doc)
        assert [got.assign(d) for d in new] == [expected.assign(d) for d in new]
        assert len(set(got._story_of.values())) < len(new)  # articles did join stories
        for story_id, story in got._stories.items():  # the centroids, to the bit
            assert list(story.centroid.items()) == list(expected._stories[story_id].centroid.items())
            assert story.norm == expected._stories[story_id].norm


# -- the sorted distinct band keys (the look-back's side input) ---------------------------------------------

from newsbeam.transforms.dedup import _SortedKeysFn  # noqa: E402


@pytest.mark.parametrize("sizes", [[], [0], [1], [5, 0, 7], [300] * 300])
def test_sorted_band_keys_are_numpys_unique_of_every_batch(sizes):
    rng = np.random.default_rng(len(sizes))
    batches = [rng.integers(0, 2**64 - 1, size, dtype=np.uint64, endpoint=True) for size in sizes]
    batches += [batch[: len(batch) // 2] for batch in batches]  # every key of the first halves twice
    combine = _SortedKeysFn()
    halves = [combine.create_accumulator(), combine.create_accumulator()]
    for number, batch in enumerate(batches):
        halves[number % 2] = combine.add_input(halves[number % 2], batch)
    merged = combine.extract_output(combine.merge_accumulators(halves))
    expected = np.unique(np.concatenate(batches or [np.empty(0, dtype=np.uint64)]))
    assert merged.dtype == np.uint64
    np.testing.assert_array_equal(merged, expected)
