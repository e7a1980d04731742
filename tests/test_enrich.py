"""Tests of stage "enrich": the gazetteer tagger as a plain function, then TagRegions in a pipeline.

Every expected value is written by hand from reading the input text and the scoring rules in
`Gazetteer.tag` (title 3, lead paragraph 2, elsewhere 1, demonyms halved); none is produced by the code
under test.
"""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given, settings
from hypothesis import strategies as st

from newsbeam.transforms.enrich import EnrichSettings, Gazetteer, TagRegions, Tags, load_taxonomy
from newsbeam.transforms.records import Article, DeadLetter, Place
from tests.conftest import FETCHED_AT, SEED_PATH, make_test_pipeline

FILLER = "The committee met again on Tuesday and said it would publish its findings later this year."


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.build()


@pytest.fixture(scope="module")
def town_gazetteer() -> Gazetteer:
    # Down to 15,000 inhabitants the table holds Most (CZ), Of (TR), Police (PL), March (GB): the
    # stop-list, not the population threshold, must keep them out.
    return Gazetteer.build(min_city_population=15_000)


def countries(gazetteer: Gazetteer, text: str, *, hint: str | None = None) -> tuple[str, ...]:
    return gazetteer.tag("", text, region_hint=hint).countries


def seed_article() -> tuple[str, str]:
    """The seed page as the cleaner leaves it: title, then the story's paragraphs without the credit."""
    lines = SEED_PATH.read_text(encoding="utf-8").split("\n")
    title = lines[0]
    story = "\n".join(lines[1:]).split("More from International news")[0]
    paragraphs = [p.strip() for p in story.split("\n\n") if p.strip()]
    assert paragraphs[0] == "ANDREW CABALLERO-REYNOLDS/ AFP"  # the photo credit, not story text
    return title, "\n\n".join(paragraphs[1:])


# -- the seed ---------------------------------------------------------------------------------------


def test_seed_article_is_about_gaza_israel_and_the_us(gazetteer: Gazetteer) -> None:
    title, body = seed_article()
    tags = gazetteer.tag(title, body)
    # By hand: Rafah in the title (3), lead (2) and four later paragraphs (4) = 9, Gaza in the lead (2):
    # PS 11. White House in title and lead (5) + "US" in the lead (2) and "US-Israel" (1): US 8. Israel
    # in the lead (2) and five later paragraphs (5), "Israeli" once (0.5): IL 7.5. Cairo once: EG 1.
    assert tags.countries == ("PS", "US", "IL", "EG")
    # Middle East = PS + IL + EG = 19.5, Western Asia = PS + IL = 18.5, Northern America 8, Northern Africa 1.
    assert tags.regions == ("Middle East", "Western Asia", "Northern America", "Northern Africa")
    assert tags.places == (
        Place("Rafah", "PS", 6),
        Place("Israel", "IL", 7),  # six "Israel" and one "Israeli"
        Place("White House", "US", 2),
        Place("United States", "US", 2),  # "US President", "US-Israel"
        Place("Gaza", "PS", 1),
        Place("Cairo", "EG", 1),
    )


def test_seed_teasers_tag_their_own_countries(gazetteer: Gazetteer) -> None:
    title = "New Taiwanese president calls on China to stop threats"
    body = (
        "Taiwan President Lai Ching-te asked China on Monday to stop its military and political threats, "
        "saying in his inauguration speech that peace is the only choice and that Beijing had to respect "
        "the choice of the Taiwanese people."
    )
    # TW: Taiwanese title 1.5 + Taiwan lead 2 + Taiwanese lead 1 = 4.5; CN: China 3 + 2 + Beijing 2 = 7.
    assert gazetteer.tag(title, body).countries == ("CN", "TW")


# -- traps ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "March was the wettest month on record.",
        "Police said the road would reopen on Monday.",
        "Most residents stayed indoors.",
        "Of the 40 people questioned, 12 agreed.",
        "Man arrested after a chase.",
        "Nice weather is expected all week.",
        "Reading the report, the minister frowned.",
        "Mobile phone sales fell in the quarter.",
    ],
)
def test_capitalised_common_words_are_not_places(
    gazetteer: Gazetteer, town_gazetteer: Gazetteer, text: str
) -> None:
    assert countries(gazetteer, text) == ()
    assert countries(town_gazetteer, text) == ()


@pytest.mark.parametrize(
    "text",
    [
        "Paris Hilton arrived at the gala in a silver dress.",
        "Jordan Peterson spoke for two hours.",
        "Barack Obama was the 44th president.",
        "Chad Smith played the drums.",
        "Michael Jordan scored 38 points.",
        "Senator Warren asked for a recount.",
        "Elizabeth Warren left the room.",
        "Henderson said the team would recover.",
    ],
)
def test_person_names_are_not_places(gazetteer: Gazetteer, text: str) -> None:
    assert countries(gazetteer, text) == ()


def test_obama_matches_nothing_even_among_small_towns(town_gazetteer: Gazetteer) -> None:
    # There is an Obama in Japan (about 29,000 inhabitants).
    assert town_gazetteer.tag("", "Obama said on Monday that he would campaign.") == Tags((), (), ())


def test_a_city_after_a_preposition_stays_a_place_before_said(gazetteer: Gazetteer) -> None:
    assert countries(gazetteer, "Officials in Hyderabad said the dam would hold.") == ("IN",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The governor of Georgia toured storm damage in Atlanta.", ("US",)),
        ("Georgia election officials in Savannah began a recount.", ("US",)),
        ("Protesters filled the streets of Tbilisi as Georgia's parliament voted.", ("GE",)),
        ("Georgia's parliament passed the law on Tuesday.", ("GE",)),  # no evidence: the country
    ],
)
def test_georgia_is_decided_by_co_occurring_places(gazetteer: Gazetteer, text: str, expected: tuple) -> None:
    assert countries(gazetteer, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The U.S. imposed new sanctions.", "US"),
        ("The US imposed new sanctions.", "US"),
        ("The USA won the match.", "US"),
        ("The UK imposed new sanctions.", "GB"),
        ("Britain imposed new sanctions.", "GB"),
        ("Iranian officials denied the report.", "IR"),
        ("Taiwanese voters went to the polls.", "TW"),
        ("Turkey closed the strait to warships.", "TR"),
        ("The UAE mediated the exchange.", "AE"),
        ("Fighting continued in eastern DRC.", "CD"),
        ("Indians voted in the fifth phase of elections.", "IN"),
        ("The Kremlin denied the report.", "RU"),
        ("A spokesman at Downing Street declined to comment.", "GB"),
        ("Officials at the Pentagon confirmed the strike.", "US"),
        ("Troops entered the West Bank overnight.", "PS"),
        ("The Elysee said the president would travel.", "FR"),
        ("Protests spread across Zürich and Geneva.", "CH"),
        ("Shelling hit Kiev overnight.", "UA"),
    ],
)
def test_aliases_demonyms_and_landmarks(gazetteer: Gazetteer, text: str, expected: str) -> None:
    assert countries(gazetteer, text) == (expected,)


def test_turkey_the_bird_is_not_turkey_the_country(gazetteer: Gazetteer) -> None:
    assert countries(gazetteer, "They roasted a turkey for the holiday.") == ()


def test_chad_is_the_country_next_to_ndjamena(gazetteer: Gazetteer) -> None:
    # With a curly apostrophe, as feeds write it.
    text = "Chad's army said rebels had been pushed back from N’Djamena."
    tags = gazetteer.tag("", text)
    assert tags.countries == ("TD",)
    assert tags.places == (Place("Chad", "TD", 1), Place("N'Djamena", "TD", 1))


def test_chad_alone_is_not_enough(gazetteer: Gazetteer) -> None:
    assert countries(gazetteer, "Chad went to the store.") == ()


def test_gaza_strip_is_one_place_not_also_gaza(gazetteer: Gazetteer) -> None:
    tags = gazetteer.tag("", "Aid trucks entered the Gaza Strip on Sunday.")
    assert tags.countries == ("PS",)
    assert tags.places == (Place("Gaza Strip", "PS", 1),)


def test_longest_name_wins(gazetteer: Gazetteer) -> None:
    tags = gazetteer.tag("", "Flights to New York City and Papua New Guinea were cancelled.")
    assert tags.countries == ("US", "PG")
    assert [p.name for p in tags.places] == ["New York City", "Papua New Guinea"]


@pytest.mark.parametrize(
    "text",
    [
        "Growth slowed across Latin America.",
        "Ships crossed the South China Sea.",
        "He ordered French fries and a shake.",
        "Inflation rose across the Middle East.",
    ],
)
def test_phrases_that_name_no_country(gazetteer: Gazetteer, text: str) -> None:
    assert countries(gazetteer, text) == ()


def test_region_hint_decides_an_ambiguous_name(gazetteer: Gazetteer) -> None:
    text = "Officials in Hyderabad said the dam would hold."
    # Hyderabad, India (about 7 million) outweighs Hyderabad, Pakistan (about 1.9 million) ...
    assert countries(gazetteer, text) == ("IN",)
    # ... unless the feed is Pakistani, or the article says so.
    assert countries(gazetteer, text, hint="PK") == ("PK",)
    assert countries(gazetteer, text + " Pakistan's army was deployed.") == ("PK",)
    assert countries(gazetteer, "Georgia's parliament passed the law.", hint="US") == ("US",)


def test_region_hint_does_not_add_a_country(gazetteer: Gazetteer) -> None:
    assert countries(gazetteer, "Prices rose again in March.", hint="US") == ()


def test_a_passing_city_mention_in_a_long_text_counts(gazetteer: Gazetteer) -> None:
    body = "\n\n".join([FILLER] * 6 + ["A similar inquiry was opened in Nairobi last year."] + [FILLER] * 3)
    assert gazetteer.tag("Inquiry delayed", body).places == (Place("Nairobi", "KE", 1),)


def test_one_loose_demonym_deep_in_the_text_is_noise(gazetteer: Gazetteer) -> None:
    body = "\n\n".join([FILLER] * 3 + ["The chairman wore a Swiss watch."] + [FILLER])
    assert gazetteer.tag("Inquiry delayed", body).countries == ()  # 0.5 < 1


def test_title_and_lead_weigh_more_than_the_rest(gazetteer: Gazetteer) -> None:
    body = "\n\n".join([FILLER, "Rains also hit Uganda.", "Uganda declared an emergency."])
    # KE: title 3. UG: two later paragraphs, 1 + 1 = 2.
    assert gazetteer.tag("Floods in Kenya", body).countries == ("KE", "UG")


def test_a_title_case_headline_still_finds_person_names(gazetteer: Gazetteer) -> None:
    # The body says "Hilton" on its own, so "Hilton" is a name; "strikes" is not capitalised in the body.
    perfume = gazetteer.tag(
        "Paris Hilton Launches New Perfume In Dubai", "Hilton said it recalled her travels."
    )
    assert perfume.countries == ("AE",)
    strikes = gazetteer.tag("Israel Strikes Rafah As Talks Stall", "The strikes hit overnight.")
    assert strikes.countries == ("IL", "PS")


def test_abbreviations_are_ignored_in_shouted_lines(gazetteer: Gazetteer) -> None:
    assert gazetteer.tag("JOIN US FOR THE LIVE BLOG", "Updates follow below.").countries == ()


# Place names, traps and the words around them that the context rules look at.
_TRICKY = (
    "Georgia Atlanta Tbilisi Paris Hilton Jordan Chad Nice Reading US U.S. UK Gaza Strip Rafah "
    "Israeli Iranian Hyderabad Birmingham Warren Elizabeth Senator Mr in at said the of "
    "Latin America French fries JOIN FOR LIVE Kiev Zürich N’Djamena , . 's"
)
WORDS = [*_TRICKY.split(), "\n\n"]


@settings(max_examples=80, deadline=None)
@given(title=st.lists(st.sampled_from(WORDS), max_size=8), body=st.lists(st.sampled_from(WORDS), max_size=60))
def test_tags_are_consistent_on_any_mix_of_tricky_words(
    gazetteer: Gazetteer, title: list[str], body: list[str]
) -> None:
    tags = gazetteer.tag(" ".join(title), " ".join(body))
    assert len(set(tags.countries)) == len(tags.countries)
    # Every tagged country has its evidence, and there is no evidence for an untagged one.
    assert {p.country for p in tags.places} == set(tags.countries)
    assert all(p.mentions >= 1 for p in tags.places)
    regions = {r.name: r.members for r in load_taxonomy()}
    assert all(regions[name] & set(tags.countries) for name in tags.regions)
    assert {name for name, members in regions.items() if members & set(tags.countries)} == set(tags.regions)


def test_non_text_input_is_an_error(gazetteer: Gazetteer) -> None:
    with pytest.raises(TypeError):
        gazetteer.tag("Title", None)  # type: ignore[arg-type]


# -- taxonomy ---------------------------------------------------------------------------------------


def test_bundled_taxonomy_has_the_17_m49_sub_regions_and_the_named_groups() -> None:
    regions = {r.name: r for r in load_taxonomy()}
    assert sum(r.kind == "m49" for r in regions.values()) == 17
    groups = {"Middle East", "European Union", "Latin America", "Asia-Pacific", "Sub-Saharan Africa"}
    assert groups <= set(regions)
    assert len(regions["European Union"].members) == 27
    assert {"IL", "PS", "EG", "IR", "TR"} <= regions["Middle East"].members
    assert "NO" in regions["Northern Europe"].members  # quoted in the file, so not YAML's false


def test_a_bad_taxonomy_is_refused_with_its_reason(tmp_path) -> None:
    path = tmp_path / "regions.yaml"
    path.write_text("regions:\n  Nordics:\n    kind: group\n    members: [DK, NO, SE]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Nordics"):
        load_taxonomy(path)
    pipeline = make_test_pipeline()
    with pytest.raises(ValueError, match="Nordics"):  # when the graph is built, before any work
        _ = pipeline | beam.Create([]) | TagRegions(EnrichSettings(taxonomy_path=str(path)))


def test_a_custom_taxonomy_replaces_the_regions(gazetteer: Gazetteer, tmp_path) -> None:
    path = tmp_path / "regions.yaml"
    path.write_text(
        "regions:\n  Levant:\n    kind: group\n    members: [IL, PS, LB, SY, JO]\n", encoding="utf-8"
    )
    title, body = seed_article()
    tags = Gazetteer.build(taxonomy_path=str(path)).tag(title, body)
    assert tags.countries == ("PS", "US", "IL", "EG")
    assert tags.regions == ("Levant",)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="min_city_population"):
        EnrichSettings(min_city_population=-1)


# -- the Beam composite -----------------------------------------------------------------------------


def make_article(article_id: str, title: str, body: object, region_hint: str | None = None) -> Article:
    return Article(
        article_id=article_id,
        url=f"https://news.example/{article_id}",
        source="news.example",
        feed_url="https://news.example/feed.xml",
        title=title,
        body=body,  # type: ignore[arg-type]
        fetched_at=FETCHED_AT,
        region_hint=region_hint,
    )


def test_tag_regions_in_a_pipeline_with_a_dead_letter() -> None:
    seed_title, seed_body = seed_article()
    articles = [
        make_article("seed", seed_title, seed_body),
        make_article("hinted", "Dam holds", "Officials in Hyderabad said the dam held.", region_hint="PK"),
        make_article("plain", "Quarterly results", "Revenue rose 3 percent."),
        make_article("broken", "No body", None),  # the DoFn fails on it: a dead letter, not a failed bundle
    ]
    p = make_test_pipeline()
    out = p | beam.Create(articles) | TagRegions(EnrichSettings())  # as the pipeline config passes it
    summary = out.main | "Summarise" >> beam.Map(
        lambda a: (a.article_id, a.countries, a.regions[:2], len(a.places))
    )
    assert_that(
        summary,
        equal_to(
            [
                ("seed", ("PS", "US", "IL", "EG"), ("Middle East", "Western Asia"), 6),
                ("hinted", ("PK",), ("Southern Asia", "Asia-Pacific"), 1),
                ("plain", (), (), 0),
            ]
        ),
        label="TaggedArticles",
    )
    dead = out.dead_letters | "DescribeDead" >> beam.Map(
        lambda d: (isinstance(d, DeadLetter), d.stage, d.item, d.error_class)
    )
    assert_that(
        dead, equal_to([(True, "enrich", "https://news.example/broken", "TypeError")]), label="DeadLetters"
    )
    result = p.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_namespace("enrich"))["counters"]
    assert {c.key.metric.name: c.committed for c in counters} == {
        "tagged": 2,
        "untagged": 1,
        "dead_letters": 1,
    }
