"""Throughput of the region tagger on one core: `python -m bench.enrich_speed [--articles N] [--words W]`.

Builds N synthetic articles of about W words (default 10,000 x 500) deterministically from a word list,
person names and place names (no network, no files), then times `Gazetteer.tag(title, body)` over all
of them in one thread of one process (one core; not pinned, so that a busy core does not count). Prints:

- the gazetteer build time: the first build in this process (package data read from disk, as a worker's
  first bundle pays it) and the median of `--builds` further builds;
- articles/s and words/s of tagging (best of `--repeat` passes over the same articles, so a stray pause
  of the machine does not count), and the mean number of countries tagged per article;
- the CPU time of the best pass (process time: on a shared machine the wall time also counts the other
  processes' turns).

The articles are news-like on purpose: sentences start with a capital, a few percent of the tokens are
place names (countries, capitals, cities, US states, demonyms, landmarks, ambiguous names such as
Georgia, Jordan or Santiago), a few more are capitalised words the tagger must reject (person names,
months, "Police", "Most", "Reading"), and paragraphs are separated by blank lines, so every stage of the
tagger (matching, context rules, disambiguation, scoring) has work.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import statistics
import sys
import time

from newsbeam.transforms.enrich import Gazetteer

_WORDS = """
the of and to in a for on that with was is as by at from it said has have be are were will would not
this which but after its their they been more than also who an had over about into two new one year
government officials minister people police report week month last first told could against during
since some other while security talks including before under three where between million percent
people's president state public local national forces military economic election vote party leader
leaders opposition country capital region city border agreement deal plan budget prices inflation
market markets bank banks company companies workers union strike protest protests court judge law
laws rules health hospital hospitals school schools water energy power fuel oil gas exports imports
trade growth jobs unemployment tax taxes spending debt loans aid food farmers crops drought floods
storm rain heat fire fires earthquake rescue teams residents families children women men killed
injured wounded dead missing arrested charged released detained prisoners hostages ceasefire troops
soldiers army attack attacks strikes missile missiles drone drones rockets fighting war conflict
peace negotiators envoy envoys embassy ambassador sanctions summit meeting statement spokesman
spokeswoman according data figures survey analysts investors shares prices rose fell climbed dropped
expected likely plans planned announced warned confirmed denied rejected approved welcomed criticised
called urged promised pledged agreed refused delayed postponed launched opened closed began ended
remained continued increased reduced cut raised lower higher record largest biggest smallest
several many most few dozens hundreds thousands early late later earlier recent recently still again
already now today yesterday tomorrow tonight morning evening night weekend day days weeks months years
"""
WORDS = _WORDS.split()

# Capitalised words that are not places here, some of them names of places elsewhere (the stop-list and
# person-name rules must reject them).
_NON_PLACES = """
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July
August September October November December Police Most Of Man Reading Mobile Nice Parliament Congress
Senate Reuters Associated Press Ministry Committee Council Commission Prime Minister President Smith
Garcia Hassan Wei Rossi Cohen Okafor Silva Tanaka Petrova Mensah Khan Novak Ibrahim Kowalski Sharma
Levy Haddad Boateng Maria Ahmed Olga Samuel Fatima Peter Aisha Marco Elena Tomasz Priya Daniel Leila
Kofi Anna Jane John Warren Henderson Jordan Peterson Paris Hilton Chad Smith Obama Biden Trump Putin
Xi Modi Macron Scholz Erdogan Netanyahu Zelensky Lula Milei Ramaphosa Ruto Tinubu Albanese Carney
"""
NON_PLACES = _NON_PLACES.split()

_PLACES = """
Afghanistan Albania Algeria Angola Argentina Armenia Australia Austria Azerbaijan Bangladesh Belarus
Belgium Bolivia Brazil Bulgaria Cambodia Cameroon Canada Chile China Colombia Croatia Cuba Denmark
Ecuador Egypt Ethiopia Finland France Georgia Germany Ghana Greece Guatemala Haiti Hungary India
Indonesia Iran Iraq Ireland Israel Italy Japan Jordan Kenya Kuwait Lebanon Libya Malaysia Mali Mexico
Morocco Mozambique Myanmar Nepal Netherlands Nigeria Norway Pakistan Peru Philippines Poland Portugal
Qatar Romania Russia Rwanda Senegal Serbia Somalia Spain Sudan Sweden Switzerland Syria Taiwan
Tanzania Thailand Tunisia Turkey Uganda Ukraine Venezuela Vietnam Yemen Zambia Zimbabwe Britain UK US
U.S. UAE DRC Gaza Kabul Tirana Algiers Luanda Yerevan Canberra Vienna Baku Dhaka Minsk Brussels
Brasilia Sofia Ottawa Santiago Beijing Bogota Havana Copenhagen Quito Cairo Paris Berlin Accra Athens
Budapest Delhi Jakarta Tehran Baghdad Dublin Jerusalem Rome Tokyo Amman Nairobi Beirut Tripoli Rabat
Kathmandu Amsterdam Abuja Oslo Islamabad Lima Manila Warsaw Lisbon Doha Bucharest Moscow Kigali Dakar
Belgrade Madrid Khartoum Stockholm Geneva Damascus Taipei Bangkok Tunis Ankara Istanbul Kampala Kyiv
Caracas Hanoi Harare London Washington Birmingham Manchester Glasgow Lagos Karachi Lahore Mumbai
Chennai Kolkata Shanghai Shenzhen Osaka Seoul Sydney Melbourne Toronto Vancouver Chicago Houston
Atlanta Texas California Florida Virginia Ohio Alexandria Valencia Barcelona Milan Munich Hamburg
Lyon Marseille Rafah Kremlin Pentagon Iranian Israeli French German Chinese Russian American British
Ukrainian Indian Pakistani Nigerian Kenyan Brazilian Mexican Japanese Turkish Saudi Egyptian Syrian
"""
PLACES = [
    *_PLACES.split(),
    *(
        "White House",
        "Downing Street",
        "West Bank",
        "Saudi Arabia",
        "South Africa",
        "New York",
        "Los Angeles",
    ),
    *("Hong Kong", "New Delhi", "Buenos Aires", "Mexico City", "South Korea", "North Korea", "Sri Lanka"),
    *("New Zealand", "San Jose", "Abu Dhabi", "Addis Ababa"),
]

PLACE_SHARE = 0.04  # of the tokens: about 20 place names in a 500-word article
NON_PLACE_SHARE = 0.05


def _token(rng: random.Random, focus: list[str]) -> str:
    roll = rng.random()
    if roll < PLACE_SHARE:
        return rng.choice(focus) if rng.random() < 0.6 else rng.choice(PLACES)
    if roll < PLACE_SHARE + NON_PLACE_SHARE:
        return rng.choice(NON_PLACES)
    return rng.choice(WORDS)


def _sentence(rng: random.Random, focus: list[str], length: int) -> str:
    tokens = [_token(rng, focus) for _ in range(length)]
    tokens[0] = tokens[0][0].upper() + tokens[0][1:]
    return " ".join(tokens) + "."


def make_articles(count: int, words: int, seed: int = 1) -> list[tuple[str, str]]:
    """`count` (title, body) pairs of about `words` words each; the same on every machine for one seed."""
    rng = random.Random(seed)
    articles = []
    for _ in range(count):
        focus = rng.sample(PLACES, 3)  # the places this article keeps coming back to
        title = _sentence(rng, focus, rng.randint(7, 12)).rstrip(".")
        paragraphs, n = [], 0
        while n < words:
            sentences = [_sentence(rng, focus, rng.randint(12, 28)) for _ in range(rng.randint(2, 4))]
            paragraphs.append(" ".join(sentences))
            n += sum(s.count(" ") + 1 for s in sentences)
        articles.append((title, "\n\n".join(paragraphs)))
    return articles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.enrich_speed", description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--words", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the best counts")
    parser.add_argument("--builds", type=int, default=3, help="warm gazetteer builds to time")
    parser.add_argument("--profile", action="store_true", help="cProfile one pass instead of timing")
    args = parser.parse_args(argv)

    print(
        "command: "
        + shlex.join([os.path.basename(sys.executable), "-m", "bench.enrich_speed", *sys.argv[1:]])
    )

    start = time.perf_counter()
    gazetteer = Gazetteer.build()
    first_build = time.perf_counter() - start
    warm = []
    for _ in range(args.builds):
        start = time.perf_counter()
        Gazetteer.build()
        warm.append(time.perf_counter() - start)

    articles = make_articles(args.articles, args.words, args.seed)
    total_words = sum(len(t.split()) + len(b.split()) for t, b in articles)
    tag = gazetteer.tag
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for title, body in articles:
            tag(title, body)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return 0
    for title, body in articles[:200]:  # warm up
        tag(title, body)
    best = best_cpu = float("inf")
    tagged = 0
    for _ in range(args.repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        tagged = sum(len(tag(title, body).countries) for title, body in articles)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)

    print(
        f"gazetteer: {gazetteer.size:,} names; build {first_build:.2f} s first, "
        f"{statistics.median(warm) if warm else first_build:.2f} s warm (median of {args.builds})"
    )
    print(
        f"articles: {len(articles):,} x ~{total_words // len(articles)} words (seed {args.seed}); "
        f"{tagged / len(articles):.1f} countries tagged per article"
    )
    print(f"tagging on one core: {len(articles) / best:,.0f} articles/s, {total_words / best:,.0f} words/s "
          f"(best of {args.repeat}: {best:.2f} s)")  # fmt: skip
    # CPU time does not count the time a busy machine gives to other processes
    print(f"CPU time: {best_cpu:.2f} s, {best_cpu / len(articles) * 1e6:.0f} us per article, "
          f"{len(articles) / best_cpu:,.0f} articles per CPU-s (best of {args.repeat})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
