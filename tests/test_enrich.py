"""Tests of stage "enrich": the gazetteer tagger as a plain function, then TagRegions in a pipeline.

Every expected value is written by hand from reading the input text and the scoring rules in
`Gazetteer.tag` (title 3, lead paragraph 2, elsewhere 1, demonyms halved); none is produced by the code
under test.
"""

from __future__ import annotations

import json

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given, settings
from hypothesis import strategies as st

from newsbeam.transforms.enrich import (
    EnrichSettings,
    Gazetteer,
    TagRegions,
    Tags,
    load_taxonomy,
    source_country,
)
from newsbeam.transforms.records import Article, DeadLetter, Place
from tests.conftest import DATA, FETCHED_AT, SEED_PATH, make_test_pipeline

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


def test_tabs_are_spaces_and_match_nothing_themselves(gazetteer: Gazetteer) -> None:
    # The automaton holds helper keys that end in a tab (" t\t", "'s\t"): text never reaches it with one.
    tags = gazetteer.tag("", "Ministers met in\tParis, then\tt\tMadrid's\tenvoy left.")
    assert tags.countries == ("FR", "ES")
    assert tags.places == (Place("Paris", "FR", 1), Place("Madrid", "ES", 1))


def test_mentions_of_one_place_add_up_across_names_and_zones(gazetteer: Gazetteer) -> None:
    # "United States" and "US" are one place, Washington another. Title 3, lead paragraph 2, after it 1:
    # United States 2 + 1 + 1 = 4 (3 mentions) ranks above Washington 3 (1 mention).
    body = "The United States sent an envoy.\n\nUS officials agreed.\n\nThe US embassy stayed open."
    tags = gazetteer.tag("Talks in Washington", body)
    assert tags.countries == ("US",)
    assert tags.places == (Place("United States", "US", 3), Place("Washington", "US", 1))


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
    "Latin America French fries JOIN FOR LIVE Kiev Zürich N’Djamena , . 's "
    "London Ontario Texas Lebanon Lebanon's Tripoli Florence Pugh Valencia Santiago ( “ - /"
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


# -- qualified places, headlines, given names, hand-written city names -------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A shooting in London, Ontario left three people hurt.", ("CA",)),
        ("Flights from Birmingham, Alabama, were delayed.", ("US",)),
        ("Students rallied in Athens, Georgia, on Friday.", ("US",)),  # "Georgia" is then the state
        ("Lawmakers met in Tbilisi, Georgia, on Friday.", ("GE",)),
        # a namesake the table does not hold: the state counts, not France
        ("A tornado damaged homes in Paris, Texas, on Sunday.", ("US",)),
        # a list, not a qualifier: Paris stays in France
        ("Ministers from Paris, Germany and Italy met in Brussels.", ("FR", "DE", "IT", "BE")),
        # one sense per article: the second "Tripoli" is the first one
        ("Lebanon's Tripoli was quiet on Sunday. Shops in Tripoli reopened.", ("LB",)),
    ],
)
def test_a_qualified_city_is_read_in_its_qualifiers_country(
    gazetteer: Gazetteer, text: str, expected: tuple
) -> None:
    assert countries(gazetteer, text) == expected


def test_a_title_case_headline_drops_a_given_name_the_body_does_not_repeat(gazetteer: Gazetteer) -> None:
    # "Butler" is not in the body, and neither is "Austin": a person. Tokyo in the title: JP 3.
    austin = gazetteer.tag(
        "Austin Butler Arrives In Tokyo For Premiere", "Fans queued for hours in the rain."
    )
    assert austin.countries == ("JP",)
    # The body names the city again: the place.
    storm = gazetteer.tag("Austin Braces For Ice Storm", "Schools in Austin will close on Thursday.")
    assert storm.countries == ("US",)
    # A country stays a country in a headline, named again or not.
    assert gazetteer.tag("China Raises Tariffs On Steel", "The duties start in June.").countries == ("CN",)


def test_a_sentence_case_headline_with_proper_nouns_is_not_title_case(gazetteer: Gazetteer) -> None:
    # Four long words, three capitalised, "loses" not: sentence case, so "Adesanya" is a name.
    tags = gazetteer.tag(
        "Israel Adesanya loses in Riyadh", "The fighter was knocked out in the second round."
    )
    assert tags.countries == ("SA",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Florence Pugh will film in Atlanta.", ("US",)),
        ("Brooklyn Beckham opened a restaurant in London.", ("GB",)),
        ("Tom Holland arrived in Rome.", ("IT",)),
        ("Santiago Calatrava designed the bridge in Dallas.", ("US",)),
        ("The Paris-Berlin train was late.", ("FR", "DE")),  # side by side, but not "Elizabeth Warren"
    ],
)
def test_places_that_are_given_names(gazetteer: Gazetteer, text: str, expected: tuple) -> None:
    assert countries(gazetteer, text) == expected


def test_a_hand_written_city_name_yields_to_evidence_and_the_hint(gazetteer: Gazetteer) -> None:
    text = "Valencia's water supply was restored after a pipe burst."
    # Valencia, Spain (824,000: 2 x 5.9 + 1 for the hand-written name = 12.8) over Valencia,
    # Venezuela (1.6 million: 12.4) ...
    assert countries(gazetteer, text) == ("ES",)
    # ... unless the feed is Venezuelan (+2.5) or the article names Venezuela (+1.5).
    assert countries(gazetteer, text, hint="VE") == ("VE",)
    assert countries(gazetteer, "A blast in Valencia hurt 14 workers, Venezuela's minister said.") == ("VE",)
    # "Santiago" is Chile's capital unless a Dominican feed says it (the short name of Santiago de los
    # Caballeros, hand-written in places.yaml).
    assert countries(gazetteer, "Floods hit Santiago.") == ("CL",)
    assert countries(gazetteer, "Floods hit Santiago.", hint="DO") == ("DO",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tourists crowded the Spanish Steps in Rome.", ("IT",)),
        ("The British Isles had a wet summer.", ()),
        ("Saudi Arabian officials met in Riyadh.", ("SA",)),
        ("Greenlanders voted on Tuesday.", ("GL",)),
        ("Pilgrims reached Santiago de Compostela.", ("ES",)),
    ],
)
def test_idioms_and_added_names(gazetteer: Gazetteer, text: str, expected: tuple) -> None:
    assert countries(gazetteer, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("“Gaza” was quiet.", ("PS",)),
        ("(Gaza) Aid arrived.", ("PS",)),
        ("[Gaza] Aid arrived.", ("PS",)),
        ("US–China talks resumed.", ("US", "CN")),  # an en dash
        ("Talks in ‘Kyiv’ ended.", ("UA",)),
        ("The US/UK plan was published.", ("US", "GB")),
        ("Israel\u2014Gaza talks resumed.", ("IL", "PS")),  # an em dash
        ("Gaza", ("PS",)),  # the whole text
    ],
)
def test_names_are_found_after_quotes_brackets_dashes_and_slashes(
    gazetteer: Gazetteer, text: str, expected: tuple
) -> None:
    assert countries(gazetteer, text) == expected


def test_capitals_are_governments_before_said(gazetteer: Gazetteer) -> None:
    # "Warsaw" is written by hand (places.yaml) and "Tehran" too: neither becomes a speaker.
    assert countries(gazetteer, "Warsaw said it would respond.") == ("PL",)
    assert countries(gazetteer, "Tehran said the talks would resume.") == ("IR",)


# -- languages --------------------------------------------------------------------------------------


def test_french_articles_use_the_french_names(gazetteer: Gazetteer) -> None:
    title = "L'Allemagne et les États-Unis s'opposent sur les droits de douane"
    body = "Le Royaume-Uni a annoncé à Londres de nouvelles mesures ; Moscou a critiqué la décision."
    tags = gazetteer.tag(title, body, language="fr")
    # GB: Royaume-Uni 2 + Londres 2 = 4; DE and US 3 each in the title (DE first); RU: Moscou 2.
    assert tags.countries == ("GB", "DE", "US", "RU")
    # Countries are written under their English name, cities as the list spells them.
    assert Place("Germany", "DE", 1) in tags.places
    assert Place("Londres", "GB", 1) in tags.places
    assert gazetteer.tag(title, body, language="fr-CA").countries == tags.countries
    assert gazetteer.tag(title, body, language="FR").countries == tags.countries
    # Without the language, none of these names is English.
    assert gazetteer.tag(title, body).countries == ()
    assert gazetteer.tag(title, body, language="en").countries == ()


def test_german_articles_use_the_german_names(gazetteer: Gazetteer) -> None:
    title = "Die Niederlande und Frankreich beraten über Hilfe für die Ukraine"
    body = "Im Weißen Haus sagte ein Sprecher, die Vereinigten Staaten würden Kiew weiter unterstützen."
    tags = gazetteer.tag(title, body, language="de")
    # UA: title 3 + Kiew 2 = 5; US: Weißen Haus 2 + Vereinigten Staaten 2 = 4; NL and FR: title 3.
    assert tags.countries == ("UA", "US", "NL", "FR")
    assert gazetteer.languages == ("de", "fr")


def test_a_language_can_add_its_own_stop_words(gazetteer: Gazetteer) -> None:
    # names.de.yaml stop-lists "Essen", in German also the word for food.
    assert countries(gazetteer, "Workers went on strike in Essen.") == ("DE",)
    assert gazetteer.tag("", "Das Essen in der Kantine wurde teurer.", language="de").countries == ()


def test_a_language_is_added_with_a_file_and_no_code(tmp_path) -> None:
    path = tmp_path / "names.it.yaml"
    path.write_text(
        "countries:\n  DE: {aliases: [Germania], demonyms: [tedesco, tedesca, tedeschi, tedesche]}\n"
        "cities:\n  GB: [Londra]\n",
        encoding="utf-8",
    )
    italian = Gazetteer.build(language_files=[path])
    assert italian.languages == ("de", "fr", "it")
    tags = italian.tag("La Germania e Londra", "Il governo tedesco ha risposto.", language="it")
    # DE: Germania in the title 3 + tedesco in the lead 2 x 0.5 = 4; GB: Londra in the title 3.
    assert tags.countries == ("DE", "GB")
    assert tags.places == (Place("Germany", "DE", 2), Place("Londra", "GB", 1))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("names.it.yaml", "countries:\n  XX: {aliases: [Foo]}\n", "XX"),
        ("names.it.yaml", "cities:\n  GB: Londra\n", "list of strings"),
        ("names.it.yaml", "places:\n  GB: [Londra]\n", "unknown keys"),
        ("names.it.yaml", "words:\n  verbs: [dice]\n", "unknown keys"),
        ("italian.yaml", "cities: {}\n", "names.<lang>.yaml"),
    ],
)
def test_a_bad_language_file_is_refused_when_the_table_is_built(
    tmp_path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        Gazetteer.build(language_files=[path])


# -- the publisher's country ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "feed_country", "expected"),
    [
        ("https://www.bbc.co.uk/news/world-123", None, "GB"),
        ("https://news.example.uk/a", None, "GB"),
        ("https://www.lemonde.fr/international/", None, "FR"),
        ("https://www.smh.com.au/world", None, "AU"),
        ("https://www.abc.net.au/news/", None, "AU"),
        ("HTTPS://WWW.SPIEGEL.DE/politik", None, "DE"),
        ("https://www.spiegel.de.:443/a", None, "DE"),  # a trailing dot and a port
        ("https://www.eltiempo.com.co/mundo", None, "CO"),  # .co under a second-level label
        ("https://www.nytimes.com/2024/05/20/world/x.html", None, None),
        ("https://www.example.org/", None, None),
        ("https://example.net/", None, None),
        ("https://example.info/", None, None),
        ("https://example.news/", None, None),
        ("https://europa.eu/news", None, None),  # .eu is not a country
        ("https://bit.ly/abc", None, None),  # a ccTLD sold as a generic name
        ("https://startup.io/blog", None, None),
        ("https://news.example/feed.xml", None, None),
        ("https://127.0.0.1/feed", None, None),
        ("https://[::1]:8080/feed", None, None),
        ("/srv/feeds/local.xml", None, None),
        ("not a url", None, None),
        ("", None, None),
        (None, None, None),
        # the feed's configured country wins over the domain
        ("https://www.nytimes.com/x", "US", "US"),
        ("https://www.bbc.co.uk/x", "ke", "KE"),
        (None, "KE", "KE"),
    ],
)
def test_source_country(url: str | None, feed_country: str | None, expected: str | None) -> None:
    assert source_country(url, feed_country) == expected


# -- the labelled set -------------------------------------------------------------------------------


def labelled_set() -> list[dict]:
    path = DATA / "geo" / "labelled.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_labelled_set_is_well_formed() -> None:
    rows = labelled_set()
    assert len(rows) >= 200
    assert len({r["id"] for r in rows}) == len(rows)
    codes = set().union(*(r.members for r in load_taxonomy()))
    for row in rows:
        assert set(row) == {"id", "title", "body", "countries", "region_hint", "traps"}, row["id"]
        assert all(code in codes for code in row["countries"]), row["id"]
        assert len(set(row["countries"])) == len(row["countries"]), row["id"]
        assert row["region_hint"] is None or row["region_hint"] in codes, row["id"]
    assert sum(r["region_hint"] is not None for r in rows) >= 30


def test_the_labelled_set_stays_above_f1_0_90(gazetteer: Gazetteer) -> None:
    # A regression guard (bench/enrich_quality.py prints the figures): micro F1 of document country sets.
    tp = fp = fn = 0
    for row in labelled_set():
        predicted = set(gazetteer.tag(row["title"], row["body"], region_hint=row["region_hint"]).countries)
        gold = set(row["countries"])
        tp, fp, fn = tp + len(predicted & gold), fp + len(predicted - gold), fn + len(gold - predicted)
    assert 2 * tp / (2 * tp + fp + fn) >= 0.90


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


def make_article(
    article_id: str,
    title: str,
    body: object,
    region_hint: str | None = None,
    *,
    url: str | None = None,
    language: str | None = None,
) -> Article:
    return Article(
        article_id=article_id,
        url=url or f"https://news.example/{article_id}",
        source="news.example",
        feed_url="https://news.example/feed.xml",
        title=title,
        body=body,  # type: ignore[arg-type]
        fetched_at=FETCHED_AT,
        region_hint=region_hint,
        language=language,
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


def test_tag_regions_sets_the_source_country_and_uses_the_language() -> None:
    articles = [
        make_article("uk", "Floods in Kenya", "Rain fell.", url="https://www.bbc.co.uk/news/1"),
        make_article("hinted", "Floods in Kenya", "Rain fell.", region_hint="KE"),
        make_article("com", "Floods in Kenya", "Rain fell.", url="https://www.nytimes.com/1"),
        make_article(
            "fr", "Inondations en Allemagne", "La pluie tombe.", url="https://lemonde.fr/1", language="fr"
        ),
    ]
    p = make_test_pipeline()
    out = p | beam.Create(articles) | TagRegions(EnrichSettings())
    summary = out.main | beam.Map(lambda a: (a.article_id, a.countries, a.source_country))
    assert_that(
        summary,
        equal_to(
            [
                ("uk", ("KE",), "GB"),  # where it is about vs who published it
                ("hinted", ("KE",), "KE"),
                ("com", ("KE",), None),
                ("fr", ("DE",), "FR"),
            ]
        ),
    )
    p.run().wait_until_finish()
