"""Stories: articles about the same event share a story_id. Plain functions and one plain class.

An article is described by the weighted terms of its headline and lead (`story_terms`): words minus
stop words, headline words counted twice, names (capitalised words inside a sentence) and numbers
boosted, because what tells two earthquakes or two trials apart is who, where and how many, not the
topic words they share. Weights become TF-IDF vectors with an IDF computed from every article the
clusterer is given (this run's and the look-back's), so the result does not depend on input order.

`StoryClusterer` is an online centroid clustering: articles arrive in (event time, article_id) order
and each joins the most similar live story (cosine to the story's centroid) when the similarity clears
the threshold and the evidence agrees: the story saw an article within `window_hours`, their countries
overlap when both have some, and the article's main town or city is one the story is about (two
earthquakes in one country). Otherwise it starts a story of its own (story_id = its article_id). A
near-duplicate joins the story of the copy it duplicates. Candidate stories come from an inverted
index over each article's strongest terms, each term remembering only its most recent stories, so the
cost per article is bounded and the whole pass is linear in the number of articles.

The same class serves the batch path (one pass per language group inside a GroupByKey) and the
streaming path (kept in state between polls).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import repeat
from operator import mul, neg

# Function words of the languages newsbeam ships name lists for (en, fr, de, es): they say nothing
# about which event an article reports.
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves said says say told according new year years week day
    monday tuesday wednesday thursday friday saturday sunday mr mrs ms people one two three first last
    time since still later early earlier least many much may might must us 's
    le la les un une des du de et en est sont dans sur pour par avec au aux ce cette ces qui que ne pas
    plus il elle ils elles on son sa ses leur leurs été être a ont selon lundi mardi mercredi jeudi
    vendredi samedi dimanche
    der die das den dem des ein eine einer eines und ist sind im in zu mit von für auf aus bei nach als
    auch sich nicht es er sie wir am um wurde wurden hat haben sagte montag dienstag mittwoch donnerstag
    freitag samstag sonntag
    el los las del y es son por para con se su sus lo al una unos unas según fue han dijo lunes martes
    miércoles jueves viernes sábado domingo
    """.split()  # noqa: SIM905 (a word list reads better as text than as 300 quoted literals)
)

# A word, and the last character before it that is no space (empty when only spaces, or nothing, come
# between it and the word before): one regex pass finds both, no slicing of the text between words.
_TOKEN = re.compile(r"([^\w\s]?)\s*(\w+)")
_SENTENCE_END = frozenset('.!?:;"“”«»(')


@dataclass(frozen=True, slots=True)
class StorySettings:
    """The story clustering knobs (part of DedupSettings)."""

    threshold: float = 0.25  # least cosine between an article and a story's centroid to join it
    window_hours: float = 72.0  # a story takes no article more than this after its latest one
    title_weight: float = 2.0  # a headline word counts this many times
    name_weight: float = 2.0  # capitalised words inside a sentence (people, places, organisations)
    number_weight: float = 1.5  # figures: death tolls, magnitudes, vote shares
    lead_words: int = 80  # words of summary + body read after the headline
    candidate_terms: int = 10  # strongest terms of an article that look up candidate stories
    stories_per_term: int = 32  # most recent stories each term remembers
    require_country_overlap: bool = True  # both tagged, no shared country: different events
    require_place_overlap: bool = True  # both name towns or cities, none shared: different events

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"stories.threshold must be in (0, 1], got {self.threshold}")
        if self.window_hours <= 0:
            raise ValueError(f"stories.window_hours must be positive, got {self.window_hours}")
        for name in ("title_weight", "name_weight", "number_weight"):
            if getattr(self, name) <= 0:
                raise ValueError(f"stories.{name} must be positive, got {getattr(self, name)}")
        for name in ("lead_words", "candidate_terms", "stories_per_term"):
            if getattr(self, name) < 1:
                raise ValueError(f"stories.{name} must be at least 1, got {getattr(self, name)}")


def _terms_of(text: str, weight: float, settings: StorySettings, into: dict[str, float]) -> None:
    number_weight, name_weight = weight * settings.number_weight, weight * settings.name_weight
    words = _TOKEN.findall(text)
    if words:
        words[0] = (".", words[0][1])  # the text's first word opens a sentence
    get = into.get
    for before, raw in words:
        token = raw.casefold()
        if token in STOP_WORDS or (len(token) < 2 and not token.isdigit()):
            continue
        if not token.isalpha() and any(c.isdigit() for c in token):  # letters only: no digit, no loop
            w = number_weight
        elif raw[0].isupper() and before not in _SENTENCE_END:
            w = name_weight
        else:
            w = weight
        into[token] = get(token, 0.0) + w


def story_terms(
    title: str, summary: str | None, body: str, settings: StorySettings = StorySettings()
) -> dict[str, float]:
    """Weighted terms of the headline and lead: what `StoryClusterer` compares.

    >>> terms = story_terms("Quake of magnitude 6.1 hits Oaxaca", None, "The quake struck near Oaxaca.")
    >>> terms["oaxaca"] > terms["quake"]
    True
    """
    title = unicodedata.normalize("NFKC", title or "")
    terms: dict[str, float] = {}
    _terms_of(title, settings.title_weight, settings, terms)
    _terms_of(_lead(summary, body, settings.lead_words), 1.0, settings, terms)
    return terms


def _lead(summary: str | None, body: str, words: int) -> str:
    """The first `words` words of the NFKC-normalised summary + body, one space apart, normalising only
    the head of the text: whitespace is a normalisation boundary (no whitespace character composes with
    its neighbours), and NFKC never turns a word into nothing but spaces, so the first words of the
    normalised head are those of the normalised whole text."""
    source = " ".join(part for part in (summary, body) if part)
    head = " ".join(source.split(None, words)[:words])
    return " ".join(unicodedata.normalize("NFKC", head).split()[:words])


@dataclass(frozen=True, slots=True)
class StoryDoc:
    """One article as story clustering sees it."""

    article_id: str
    at: float  # event time, seconds since the epoch
    terms: Mapping[str, float]
    countries: tuple[str, ...] = ()  # most salient first
    places: tuple[str, ...] = ()  # sub-national places (towns, cities, provinces), most salient first
    duplicate_of: str | None = None
    story_id: str | None = None  # set for articles of earlier runs: their story is decided


def idf_weight(df: int, n: int) -> float:
    """Smoothed IDF of a term found in `df` of `n` documents (df 0: an unseen term)."""
    return math.log((1 + n) / (1 + df)) + 1.0


def idf_table(documents: Iterable[Mapping[str, float]]) -> tuple[dict[str, float], float]:
    """Smoothed IDF of every term over `documents`, and the IDF of an unseen term."""
    df: Counter[str] = Counter()
    n = 0
    for terms in documents:
        n += 1
        df.update(terms.keys())
    return {t: idf_weight(d, n) for t, d in df.items()}, idf_weight(0, n)


class RollingIdf(Mapping[str, float]):
    """The IDF of `idf_table` over a set of documents that changes (the streaming path's look-back):
    document frequencies are counted per day, so that a day's documents are forgotten at once. Reads like
    `idf_table`'s table; `unseen` is the IDF of a term no document holds.

    >>> idf = RollingIdf()
    >>> idf.add(0, ["quake", "ankara"])
    >>> idf.add(1, ["quake", "izmir"])
    >>> round(idf["izmir"], 3), round(idf["quake"], 3)
    (1.405, 1.0)
    >>> idf.forget_before(1)
    >>> round(idf["izmir"], 3), "ankara" in idf
    (1.0, False)
    """

    def __init__(self) -> None:
        self._days: dict[int, tuple[int, Counter[str]]] = {}  # day number -> (documents, their terms)
        self._total: Counter[str] = Counter()
        self._n = 0

    def add(self, day: int, terms: Iterable[str]) -> None:
        documents, counts = self._days.get(day, (0, Counter()))
        terms = set(terms)
        counts.update(terms)
        self._days[day] = (documents + 1, counts)
        self._total.update(terms)
        self._n += 1

    def forget_before(self, day: int) -> None:
        for old in [d for d in self._days if d < day]:
            documents, counts = self._days.pop(old)
            self._n -= documents
            self._total.subtract(counts)
            for term in counts:
                if self._total[term] <= 0:
                    del self._total[term]

    @property
    def unseen(self) -> float:
        return idf_weight(0, self._n)

    @property
    def oldest_day(self) -> int | None:
        return min(self._days, default=None)

    def __getitem__(self, term: str) -> float:
        df = self._total.get(term)
        if not df:
            raise KeyError(term)
        return idf_weight(df, self._n)

    def get(self, term: str, default=None):  # `vector` asks for every term: no exception per unseen one
        df = self._total.get(term)
        return idf_weight(df, self._n) if df else default

    def __iter__(self):
        return iter(self._total)

    def __len__(self) -> int:
        return len(self._total)


def vector(terms: Mapping[str, float], idf: Mapping[str, float], unseen: float) -> dict[str, float]:
    """Unit-length TF-IDF vector: sublinear term weight x IDF."""
    log, get = math.log, idf.get
    weighted = {t: (1.0 + log(w) if w > 1.0 else w) * get(t, unseen) for t, w in terms.items()}
    values = weighted.values()
    norm = math.sqrt(sum(map(mul, values, values))) or 1.0
    return {t: v / norm for t, v in weighted.items()}


@dataclass(slots=True)
class _Story:
    story_id: str
    last_at: float
    centroid: dict[str, float] = field(default_factory=dict)  # sum of member vectors
    norm: float = 0.0
    norm_squared: float = 0.0  # kept up to date term by term: a story's centroid grows with its articles
    countries: Counter = field(default_factory=Counter)
    places: Counter = field(default_factory=Counter)
    size: int = 0

    def add(self, vec: Mapping[str, float], doc: StoryDoc) -> None:
        # |c + v|^2 = |c|^2 + sum over v's terms of (2 c_t + v_t) v_t: the cost of an article is its own
        # terms, not the story's whole vocabulary (summing the centroid made big stories quadratic)
        centroid, grown = self.centroid, 0.0
        get = centroid.get
        for t, v in vec.items():
            before = get(t, 0.0)
            centroid[t] = before + v
            grown += (2.0 * before + v) * v
        self.norm_squared = max(0.0, self.norm_squared + grown)
        self.norm = math.sqrt(self.norm_squared)
        self.countries.update(doc.countries[:3])
        self.places.update(doc.places[:1])  # where its articles say it happened
        at = doc.at
        self.last_at = max(self.last_at, at)
        self.size += 1

    def similarity(self, vec: Mapping[str, float]) -> float:
        if not self.norm:
            return 0.0
        # the products in the order of vec's terms, summed by sum() as always: the same float to the bit
        return sum(map(mul, vec.values(), map(self.centroid.get, vec.keys(), repeat(0.0)))) / self.norm


class StoryClusterer:
    """Online centroid clustering of articles into stories; feed it articles in (at, article_id) order.

    >>> idf, unseen = idf_table([{"quake": 1.0, "oaxaca": 2.0}, {"quake": 1.0, "oaxaca": 2.0}])
    >>> c = StoryClusterer(StorySettings(), idf, unseen)
    >>> c.assign(StoryDoc("a", 0.0, {"quake": 1.0, "oaxaca": 2.0}))
    'a'
    >>> c.assign(StoryDoc("b", 3600.0, {"quake": 1.0, "oaxaca": 2.0}))
    'a'
    """

    def __init__(self, settings: StorySettings, idf: Mapping[str, float], unseen_idf: float) -> None:
        self._settings = settings
        self._idf, self._unseen = idf, unseen_idf
        self._window = settings.window_hours * 3600.0
        self._stories: dict[str, _Story] = {}
        self._story_of: dict[str, str] = {}  # article_id -> story_id, for near-duplicates
        # a plain dict, not a defaultdict of a lambda: the streaming path keeps the clusterer in Beam state,
        # which pickles it
        self._by_term: dict[str, deque[str]] = {}

    def _index(self, story: _Story, strongest: list[str]) -> None:
        for term in strongest:
            recent = self._by_term.get(term)
            if recent is None:
                recent = self._by_term[term] = deque(maxlen=self._settings.stories_per_term)
            if story.story_id not in recent:
                recent.append(story.story_id)

    def remember(self, doc: StoryDoc) -> None:
        """An article of an earlier run with its decided story: it shapes the story, it is not judged."""
        self.join(doc, doc.story_id or doc.article_id)

    def join(self, doc: StoryDoc, story_id: str) -> str:
        """An article whose story is decided already (an earlier run's article, or a near-duplicate whose
        original's story is known): it joins that story, which is started again if it was forgotten."""
        vec = vector(doc.terms, self._idf, self._unseen)
        story = self._stories.get(story_id)
        if story is None:
            story = self._stories[story_id] = _Story(story_id, doc.at)
        story.add(vec, doc)
        self._story_of[doc.article_id] = story_id
        self._index(story, _strongest(vec, self._settings.candidate_terms))
        return story_id

    def assign(self, doc: StoryDoc) -> str:
        """The story_id of a new article (its own article_id when it starts a story)."""
        if doc.duplicate_of is not None and doc.duplicate_of in self._story_of:
            return self.join(doc, self._story_of[doc.duplicate_of])
        vec = vector(doc.terms, self._idf, self._unseen)
        strongest = _strongest(vec, self._settings.candidate_terms)
        story = self._best(doc, vec, strongest)
        if story is None:
            story = self._stories[doc.article_id] = _Story(doc.article_id, doc.at)
        story.add(vec, doc)
        self._story_of[doc.article_id] = story.story_id
        self._index(story, strongest)
        return story.story_id

    def update_idf(self, idf: Mapping[str, float], unseen_idf: float) -> None:
        """The streaming path: the IDF of the articles now in the look-back (earlier members keep the
        weights they were added with)."""
        self._idf, self._unseen = idf, unseen_idf

    def forget(self, before: float) -> None:
        """Drop the stories whose latest article is older than `before` (no new article can join them
        any more), with their members and their places in the candidate lookup: bounds the memory of a
        clusterer that lives for days."""
        gone = {story_id for story_id, story in self._stories.items() if story.last_at < before}
        if not gone:
            return
        for story_id in gone:
            del self._stories[story_id]
        self._story_of = {a: s for a, s in self._story_of.items() if s not in gone}
        for term in list(self._by_term):
            recent = self._by_term[term]
            if any(story_id in gone for story_id in recent):
                kept = [story_id for story_id in recent if story_id not in gone]
                if kept:
                    self._by_term[term] = deque(kept, maxlen=self._settings.stories_per_term)
                else:
                    del self._by_term[term]

    @property
    def oldest_story_at(self) -> float | None:
        return min((story.last_at for story in self._stories.values()), default=None)

    def __len__(self) -> int:
        return len(self._stories)

    def _best(self, doc: StoryDoc, vec: Mapping[str, float], strongest: list[str]) -> _Story | None:
        settings = self._settings
        candidates: set[str] = set()
        for term in strongest:
            recent = self._by_term.get(term)
            if recent:
                candidates.update(recent)
        best, best_key = None, None
        stories, at, window, threshold = self._stories, doc.at, self._window, settings.threshold
        countries = set(doc.countries[:3]) if settings.require_country_overlap else None
        # the article's main place must be one the story names: a witness from the other event's town does
        # not merge two events
        place = doc.places[0] if settings.require_place_overlap and doc.places else None
        for story_id in candidates:
            story = stories[story_id]
            if abs(at - story.last_at) > window:
                continue
            if countries and story.countries and countries.isdisjoint(story.countries):
                continue
            if place is not None and story.places and place not in story.places:
                continue
            score = story.similarity(vec)
            if score < threshold:
                continue
            key = (-score, story_id)  # ties: the smaller id, whatever order the candidates came in
            if best_key is None or key < best_key:
                best, best_key = story, key
        return best


def _strongest(vec: Mapping[str, float], k: int) -> list[str]:
    # sorted by (-weight, term) as tuples: no key function called per term
    return [t for _, t in sorted(zip(map(neg, vec.values()), vec.keys(), strict=True))[:k]]


def cluster_stories(
    new: Iterable[StoryDoc], earlier: Iterable[StoryDoc] = (), settings: StorySettings = StorySettings()
) -> dict[str, str]:
    """article_id -> story_id for every article of `new`, seeing the decided stories of `earlier`.

    Deterministic: the IDF comes from all the articles, earlier ones are replayed first, new ones in
    (at, article_id) order; shuffling either input changes nothing.
    """
    earlier = sorted(earlier, key=lambda d: (d.at, d.article_id))
    new = sorted(new, key=lambda d: (d.at, d.article_id))
    idf, unseen = idf_table(d.terms for d in (*earlier, *new))
    clusterer = StoryClusterer(settings, idf, unseen)
    for doc in earlier:
        clusterer.remember(doc)
    return {doc.article_id: clusterer.assign(doc) for doc in new}
