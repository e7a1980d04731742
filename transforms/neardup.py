"""Near-duplicates: word shingles, MinHash signatures and LSH band keys, as plain numpy functions.

Shared by the batch composite (transforms/dedup.py), the streaming path and the benchmarks. Everything
here is deterministic across processes, machines and runs: word and shingle hashes are computed from
the UTF-8 bytes (not Python's salted `hash`) with constants drawn from blake2b of fixed labels, so a
signature written to the look-back index today matches one computed next week.

The work is vectorised over a batch of documents: the texts are joined into one byte array, words are
found with a byte table, hashed with one weighted sum per word (`np.add.reduceat`), combined into k-word
shingles with k shifted adds, and turned into signatures by one sort. No Python code runs per word or
per shingle; per document only the text normalisation is Python.

The signature is a one-permutation MinHash (Li, Owen & Zhang 2012) with rotation densification
(Shrivastava & Li 2014): each shingle hash picks one of NUM_PERM bins with its top bits and competes
for the bin's minimum with its next 32 bits; an empty bin borrows from the next filled one. Its cost is
one sort per batch instead of NUM_PERM hash evaluations per shingle, and the share of equal positions
in two signatures estimates the Jaccard similarity of the two shingle sets, as classic MinHash does.

    >>> sketch = sketches(["The storm hit the coast on Monday and cut power to 4,000 homes"], min_words=5)[0]
    >>> sketch.signature.shape, sketch.signature.dtype, sketch.size, sketch.facts.size
    ((128,), dtype('uint32'), 10, 3)
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

NUM_PERM = 128  # signature length (a power of 2); part of the index format
SHINGLE_WORDS = 5  # words per shingle: long enough that shared topic phrases rarely match
MIN_WORDS = 25  # below this a text is too short to call a near-duplicate safely: exact dedup only

_U64 = np.uint64
_PAIRS_AT_ONCE = 65536  # candidate pairs scored per numpy pass in find_near_duplicates
_BATCH = 1024  # texts per vectorised pass (at most 2**16: the document index has 16 bits of a sort key)
_LOW32 = _U64(0xFFFFFFFF)


def _draw(label: str) -> int:
    return int.from_bytes(hashlib.blake2b(label.encode(), digest_size=8).digest(), "little")


# Odd multipliers: one per byte position inside a word, one per word position inside a shingle, one per
# row inside an LSH band. Order matters everywhere ("ab" != "ba", "storm hit" != "hit storm").
_BYTE_POSITION = np.array([_draw(f"newsbeam-byte-{i}") | 1 for i in range(64)], dtype=_U64)
_WORD_POSITION = np.array([_draw(f"newsbeam-shingle-{i}") | 1 for i in range(16)], dtype=_U64)
_ROW_POSITION = np.array([_draw(f"newsbeam-band-{i}") | 1 for i in range(64)], dtype=_U64)
_ROTATION = _U64(_draw("newsbeam-densify") & 0xFFFFFFFF | 1)

# Bytes that belong to words: ASCII letters, digits, '_', and every byte of a multi-byte UTF-8 character
# (letters of other scripts). Unicode punctuation is cleared separately (see _word_mask).
_WORD_BYTE = np.zeros(256, dtype=bool)
_WORD_BYTE[np.frombuffer(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", np.uint8)] = True
_WORD_BYTE[128:] = True


def shingle_source(title: str, summary: str | None, body: str) -> str:
    """The text near-duplicate detection compares: the body (else the summary, else the title).

    The headline is left out on purpose: syndicated copies are retitled more often than rewritten.
    """
    return body or summary or title


# ASCII bytes as `\w` sees them: word characters (letters, digits, "_") lower-cased, every other byte a space
_ASCII_FOLDED = bytes(
    c + 32 if 65 <= c <= 90 else c if 48 <= c <= 57 or 97 <= c <= 122 or c == 95 else 32 for c in range(256)
)
_WORD_CHARACTER = re.compile(r"\w")


@functools.cache
def _bmp_word_table() -> np.ndarray:
    r"""bool per character of the Basic Multilingual Plane: does `\w` match it (asked of the regex itself,
    once per process: a few milliseconds)."""
    table = np.zeros(0x10000, dtype=bool)
    every = "".join(map(chr, range(0x10000)))
    table[np.fromiter(map(ord, _WORD_CHARACTER.findall(every)), dtype=np.intp)] = True
    return table


def folded_words(texts: Sequence[str]) -> list[str]:
    r"""For each text, `" ".join(re.findall(r"\w+", text.casefold()))`: its words, case-folded, one space
    apart, which exact comparisons hash. One numpy mask over the whole batch instead of a str per word.

    >>> folded_words(["Storm HITS the coast!", "", "  Straße: 4,000 homes…  "])
    ['storm hits the coast', '', 'strasse 4 000 homes']
    """
    if not texts:
        return []
    joined = "\n".join(texts)  # "\n" is no word character: no word spans two texts
    if joined.isascii():  # most news: one byte per character, case folded by the byte table
        width, encoding, lengths = 1, "ascii", [len(t) for t in texts]
        codes = np.frombuffer(joined.encode("ascii").translate(_ASCII_FOLDED), np.uint8)
        word = codes != 32
    else:
        folded = [t.casefold() for t in texts]  # before measuring: folding can lengthen a text (ß: ss)
        width, encoding, lengths = 4, "utf-32-le", [len(t) for t in folded]
        codes = np.frombuffer("\n".join(folded).encode(encoding, "surrogatepass"), np.uint32).copy()
        word = _bmp_word_table().take(np.minimum(codes, 0xFFFF))
        for i in np.flatnonzero(codes > 0xFFFF).tolist():
            word[i] = _WORD_CHARACTER.match(chr(codes[i])) is not None
        codes[~word] = 32
    # keep the word characters and the first character after each word (a space): one space between words
    keep = word.copy()
    keep[1:] |= word[:-1]
    kept = codes[keep].tobytes()
    if len(texts) == 1:
        return [kept.decode(encoding).strip(" ")]
    out, start, kept_start = [], 0, 0
    for length in lengths:
        # a text's piece of `kept` runs up to and with its closing line break (a space if kept: stripped)
        kept_end = kept_start + int(np.count_nonzero(keep[start : start + length + 1]))
        out.append(kept[kept_start * width : kept_end * width].decode(encoding).strip(" "))
        start, kept_start = start + length + 1, kept_end
    return out


class Sketch(NamedTuple):
    """What near-duplicate detection keeps of a text (and what the look-back index stores)."""

    signature: np.ndarray  # uint32 x NUM_PERM; empty when the text is too short
    size: int  # distinct shingles
    facts: np.ndarray  # sorted distinct uint64 hashes of the text's names and figures


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads every input bit over the whole 64-bit word."""
    x = x ^ (x >> _U64(30))
    x = x * _U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> _U64(27))
    x = x * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


def _utf8(text: str) -> bytes:
    """NFKC-normalised UTF-8 (NFKC only when the text needs it: most news is ASCII). Case is folded
    later, on the bytes, so that capitals can still be seen."""
    if not text.isascii() and not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.encode("utf-8")


# Case folding on bytes: ASCII A-Z, and the Latin-1 capitals (C3 80..9E but 97, the multiplication sign)
_LOWER = np.arange(256, dtype=np.uint8)
_LOWER[65:91] += 32
_LATIN1_CAPITAL = np.zeros(256, dtype=bool)
_LATIN1_CAPITAL[0x80:0x9F] = True
_LATIN1_CAPITAL[0x97] = False
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[48:58] = True
# bytes after which a capital starts a sentence rather than names something: . ! ? : ; " ( and the line
# break; the closing byte of the curly quotes and guillemets is checked with its lead bytes
_SENTENCE_END = np.zeros(256, dtype=bool)
_SENTENCE_END[np.frombuffer(b'.!?:;"(\n', np.uint8)] = True
# The byte tables as `bytes.translate` tables: a translate costs a fraction of numpy's table[data]
_LOWER_TABLE = _LOWER.tobytes()
_WORD_TABLE = _WORD_BYTE.astype(np.uint8).tobytes()
_DIGIT_TABLE = _DIGIT.astype(np.uint8).tobytes()


def _word_mask(joined: bytes, data: np.ndarray) -> np.ndarray:
    mask = np.frombuffer(joined.translate(_WORD_TABLE), dtype=bool)
    if data.size > 2 and not joined.isascii():
        mask = mask.copy()
        # General punctuation (U+2000-U+206F: quotes, dashes, ellipsis, thin spaces) is E2 80 xx / E2 81 xx;
        # no-break space, inverted marks and guillemets are C2 A0 / A1 / AB / BB / BF.
        lead = np.flatnonzero(data[:-2] == 0xE2)
        lead = lead[(data[lead + 1] == 0x80) | (data[lead + 1] == 0x81)]
        for offset in (0, 1, 2):
            mask[lead + offset] = False
        lead = np.flatnonzero(data[:-1] == 0xC2)
        lead = lead[np.isin(data[lead + 1], (0xA0, 0xA1, 0xAB, 0xBB, 0xBF))]
        mask[lead] = False
        mask[lead + 1] = False
    return mask


class _Scan(NamedTuple):
    hashes: np.ndarray  # uint64 per word, of its case-folded bytes
    document: np.ndarray  # index of the text each word is in
    fact: np.ndarray  # bool per word: a name (capitalised inside a sentence) or a figure (has a digit)
    starts: np.ndarray  # byte offsets of the words in `data`
    ends: np.ndarray
    data: np.ndarray  # the texts' UTF-8 bytes joined by line breaks


def _scan(texts: Sequence[str]) -> _Scan:
    """Every word of a batch of texts, hashed, with its text and whether it is a fact: one numpy pass."""
    encoded = [_utf8(t) for t in texts]
    joined = b"\n".join(encoded)  # "\n" is no word byte: no word spans texts
    data = np.frombuffer(joined, dtype=np.uint8)
    nothing = np.empty(0, np.intp)
    if data.size == 0:
        return _Scan(np.empty(0, _U64), nothing, np.empty(0, bool), nothing, nothing, data)
    folded = np.frombuffer(joined.translate(_LOWER_TABLE), dtype=np.uint8)
    lead = nothing
    if data.size > 1 and not joined.isascii():
        lead = np.flatnonzero(data[:-1] == 0xC3)
        lead = lead[_LATIN1_CAPITAL[data[lead + 1]]]
        folded = folded.copy()
        folded[lead + 1] += 32
    mask = _word_mask(joined, data)
    # the words: runs of word bytes, from the edges of the mask
    edges = np.flatnonzero(np.diff(mask, prepend=False, append=False))
    if edges.size == 0:
        return _Scan(np.empty(0, _U64), nothing, np.empty(0, bool), nothing, nothing, data)
    starts, ends = edges[0::2], edges[1::2]
    lengths = ends - starts
    starts_at = np.zeros(starts.size, dtype=np.intp)  # where each word starts among the word bytes
    np.cumsum(lengths[:-1], out=starts_at[1:])
    # each word byte's place in its word: a running count of ones that each word start sets back to 0
    within = np.ones(starts_at[-1] + lengths[-1], dtype=np.intp)
    within[0] = 0
    within[starts_at[1:]] = 1 - lengths[:-1]
    np.cumsum(within, out=within)
    np.bitwise_and(within, 63, out=within)
    weighted = folded[mask].astype(_U64)
    weighted += _U64(1)
    weighted *= _BYTE_POSITION.take(within)
    # each word's sum of `weighted` from a running sum (uint64 wraps as the hash's sums do): cheaper than
    # np.add.reduceat
    running = np.cumsum(weighted, out=weighted)
    sums = running[starts_at + lengths - 1]
    sums[1:] -= running[starts_at[1:] - 1]
    hashes = _mix(sums)
    text_starts = np.cumsum([0] + [len(e) + 1 for e in encoded[:-1]])
    document = np.searchsorted(text_starts, starts, side="right") - 1
    # facts: a digit anywhere in the word, or a capital first letter not at a sentence start
    figure = np.zeros(starts.size, dtype=bool)
    digits = np.flatnonzero(np.frombuffer(joined.translate(_DIGIT_TABLE), dtype=bool))  # few: word bytes
    figure[np.searchsorted(starts, digits, side="right") - 1] = True
    capital = (data[starts] >= 65) & (data[starts] <= 90)
    if lead.size:
        latin = np.zeros(data.size, dtype=bool)
        latin[lead] = True
        capital |= latin[starts]
    # the last byte before each word that is not a space, looking back at most three bytes (a word
    # opening the batch, or after three spaces, counts as opening a sentence)
    previous = starts - 1
    for _ in range(2):
        previous = np.where((previous >= 0) & (data[np.maximum(previous, 0)] == 32), previous - 1, previous)
    before = data[np.maximum(previous, 0)]
    opening = _SENTENCE_END[before] | (previous < 0) | (before == 32)
    # curly quotes (E2 80 9C / 9D) and guillemets (C2 AB / BB): their last byte, checked with the lead
    curly = ((before == 0x9C) | (before == 0x9D)) & (data[np.maximum(previous - 2, 0)] == 0xE2)
    guillemet = ((before == 0xAB) | (before == 0xBB)) & (data[np.maximum(previous - 1, 0)] == 0xC2)
    opening |= (curly | guillemet) & (previous >= 2)
    fact = figure | (capital & ~opening)
    return _Scan(hashes, document, fact, starts, ends, data)


def fact_words(text: str) -> str:
    """The words of a text that near-duplicate detection checks besides its wording, space-separated:
    names (capitalised inside a sentence; Latin capitals only) and figures (words with a digit). Two
    reports of different events in one house style share their wording, not these; a lightly edited
    copy keeps most of them.

    >>> fact_words('Rescuers in Chile found 12 people. The quake hit Valparaíso on Monday, "Élan" 6.4 km.')
    'Chile 12 Valparaíso Monday 6 4'
    """
    scan = _scan([text])
    raw = scan.data.tobytes()
    return " ".join(
        raw[s:e].decode("utf-8") for s, e, f in zip(scan.starts, scan.ends, scan.fact, strict=True) if f
    )


def sketches(
    texts: Sequence[str],
    *,
    num_perm: int = NUM_PERM,
    shingle_words: int = SHINGLE_WORDS,
    min_words: int = MIN_WORDS,
) -> list[Sketch]:
    """A Sketch per text: its signature and shingle count (an empty signature for a text shorter than
    `min_words` words) and its fact hashes."""
    if num_perm < 8 or num_perm & (num_perm - 1) or num_perm > 1024:
        raise ValueError(f"num_perm must be a power of 2 between 8 and 1024, got {num_perm}")
    if not 1 <= shingle_words <= len(_WORD_POSITION):
        raise ValueError(f"shingle_words must be between 1 and {len(_WORD_POSITION)}, got {shingle_words}")
    out: list[Sketch] = []
    for start in range(0, len(texts), _BATCH):
        batch = texts[start : start + _BATCH]
        scan = _scan(batch)
        signatures = _signatures(scan, len(batch), num_perm, shingle_words, min_words)
        facts = _per_document(scan.hashes[scan.fact], scan.document[scan.fact], len(batch))
        out += [Sketch(sig, size, f) for (sig, size), f in zip(signatures, facts, strict=True)]
    return out


def _per_document(hashes: np.ndarray, document: np.ndarray, n: int) -> list[np.ndarray]:
    """The sorted distinct hashes of each document (document indexes ascending, as _scan gives them): what
    np.unique gives per document, from one sort of the whole batch."""
    order = np.lexsort((hashes, document))
    hashes, document = hashes[order], document[order]
    distinct = np.ones(hashes.size, dtype=bool)
    distinct[1:] = (hashes[1:] != hashes[:-1]) | (document[1:] != document[:-1])
    hashes, document = hashes[distinct], document[distinct]
    bounds = np.searchsorted(document, np.arange(n + 1)).tolist()
    return [hashes[bounds[i] : bounds[i + 1]].copy() for i in range(n)]


def _signatures(
    scan: _Scan, n: int, num_perm: int, shingle_words: int, min_words: int
) -> list[tuple[np.ndarray, int]]:
    empty = np.empty(0, dtype=np.uint32)
    words, document = scan.hashes, scan.document
    counts = np.bincount(document, minlength=n)
    k = shingle_words
    count = words.size - k + 1
    if count <= 0:
        return [(empty, 0)] * n
    shingles = words[:count] * _WORD_POSITION[0]
    for position in range(1, k):
        shingles += words[position : position + count] * _WORD_POSITION[position]
    shingles = _mix(shingles)
    owner = document[:count]
    valid = (owner == document[k - 1 :]) & (counts[owner] >= max(min_words, k))
    shingles, owner = shingles[valid], owner[valid]
    # One sort of (document, hash) keys gives both the distinct shingles and each bin's minimum: the
    # key holds the document in its top 16 bits and the hash's top 48 bits below; the bin is the hash's
    # top bits and the competing value the 32 bits after them, so within a document the first key of
    # each bin holds the bin's least value.
    keys = np.sort((owner.astype(_U64) << _U64(48)) | (shingles >> _U64(16)))
    distinct = np.ones(keys.size, dtype=bool)
    distinct[1:] = keys[1:] != keys[:-1]
    keys = keys[distinct]
    owner = (keys >> _U64(48)).astype(np.intp)
    sizes = np.bincount(owner, minlength=n)
    bits = num_perm.bit_length() - 1
    bins = ((keys >> _U64(48 - bits)) & _U64(num_perm - 1)).astype(np.intp)
    values = (keys >> _U64(16 - bits)) & _LOW32
    slot = owner * num_perm + bins
    head = np.ones(slot.size, dtype=bool)
    head[1:] = slot[1:] != slot[:-1]
    table = np.full(n * num_perm, _U64(1 << 32), dtype=_U64)  # 2**32: empty (above every value)
    table[slot[head]] = values[head]
    table = _densify(table.reshape(n, num_perm))
    return [(table[i].astype(np.uint32), int(sizes[i])) if sizes[i] else (empty, 0) for i in range(n)]


def _densify(table: np.ndarray) -> np.ndarray:
    """Fill each empty bin from the next filled bin to its right (circularly), shifted by the distance,
    so that two documents agree on an empty bin only if they agree on where and what the next value is."""
    empty = table > _LOW32
    if not empty.any():
        return table
    k = table.shape[1]
    columns = np.arange(k)
    filled = np.where(empty, 4 * k, columns[None, :])
    doubled = np.concatenate([filled, np.where(empty, 4 * k, columns[None, :] + k)], axis=1)
    following = np.minimum.accumulate(doubled[:, ::-1], axis=1)[:, ::-1][:, :k]
    whole = following < 4 * k  # rows with no filled bin stay empty
    source = np.where(whole, following % k, 0)
    distance = np.where(whole, following - columns[None, :], 0).astype(_U64)
    borrowed = (np.take_along_axis(table, source, axis=1) + distance * _ROTATION) & _LOW32
    return np.where(empty & whole, borrowed, table)


def band_key_matrix(signatures: np.ndarray, bands: int) -> np.ndarray:
    """LSH keys of many signatures of one length at once: (n, bands) uint64 for an (n, length) array.

    A key is a 64-bit int whose top byte is the band's number, so equal rows in different bands never
    collide. One numpy pass for a whole batch: per signature it costs well under a microsecond, where
    one call per signature costs tens.
    """
    n, length = signatures.shape
    rows = length // bands
    block = signatures[:, : bands * rows].reshape(n, bands, rows).astype(_U64)
    combined = _mix(np.add.reduce(block * _ROW_POSITION[:rows], axis=2, dtype=_U64))
    return (combined >> _U64(8)) | (np.arange(bands, dtype=_U64) << _U64(56))


def band_keys(sig: np.ndarray, bands: int) -> list[int]:
    """LSH: one key per band of `len(sig) // bands` rows; two signatures sharing a key are candidates."""
    if sig.size == 0:
        return []
    return band_key_matrix(sig[None, :], bands)[0].tolist()


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two shingle sets: the share of equal signature positions."""
    if sig_a.size == 0 or sig_a.size != sig_b.size:
        return 0.0
    return float(np.count_nonzero(sig_a == sig_b)) / sig_a.size


def resemblance(sig_a: np.ndarray, size_a: int, sig_b: np.ndarray, size_b: int) -> float:
    """How much of the shorter text the longer one holds (the overlap coefficient), from the estimated
    Jaccard J and the set sizes: |A n B| = J (|A| + |B|) / (1 + J).

    A copy with a paragraph dropped or added keeps a high overlap while its Jaccard falls; two texts of
    one topic share few 5-word shingles either way.
    """
    j = jaccard(sig_a, sig_b)
    if j == 0.0 or min(size_a, size_b) == 0:
        return j
    overlap = j * (size_a + size_b) / (1.0 + j)
    return min(1.0, overlap / min(size_a, size_b))


def fact_overlap(facts_a: np.ndarray, facts_b: np.ndarray) -> float:
    """Share of the smaller fact set found in the other (1.0 when either text names nothing)."""
    if facts_a.size == 0 or facts_b.size == 0:
        return 1.0
    shared = np.intersect1d(facts_a, facts_b, assume_unique=True).size
    return shared / min(facts_a.size, facts_b.size)


def near_duplicate_similarity(a: Sketch, b: Sketch, fact_threshold: float) -> float:
    """The text resemblance of a and b, or 0.0 when their names and figures disagree (fact overlap below
    `fact_threshold`): then they are two events told in one house style, not one story copied."""
    if a.signature.size == 0 or b.signature.size == 0:
        return 0.0
    if fact_overlap(a.facts, b.facts) < fact_threshold:
        return 0.0
    return resemblance(a.signature, a.size, b.signature, b.size)


def candidate_pairs(members: Iterable[tuple[str, tuple]], limit: int = 16) -> list[tuple[str, str]]:
    """(later_id, earlier_id) for the members of one LSH bucket, each given as (article_id, rank).

    A member is paired with the `limit` best-ranked members before it: a bucket that boilerplate or a
    template fills with thousands of texts then costs `limit` pairs per text, not a square.
    """
    ordered = sorted(set(members), key=lambda m: (m[1], m[0]))
    pairs = []
    for position, (article_id, _) in enumerate(ordered):
        pairs += [(article_id, earlier) for earlier, _ in ordered[: min(position, limit)]]
    return pairs


def pick_original(
    candidates: Iterable[tuple[str, tuple, float]], threshold: float
) -> tuple[str, float] | None:
    """Among (earlier_id, earlier_rank, similarity), the best-ranked one at or above the threshold."""
    passing = [c for c in candidates if c[2] >= threshold]
    if not passing:
        return None
    article_id, _, similarity = min(passing, key=lambda c: (c[1], c[0]))
    return article_id, similarity


def text_scores(
    signatures: np.ndarray, sizes: np.ndarray, others: np.ndarray, other_sizes: np.ndarray
) -> np.ndarray:
    """`resemblance` row by row of two stacks of signatures (rows of one length) and their shingle
    counts, in one numpy pass: the same float operations in the same order, so a pair scores exactly
    as `resemblance` scores it. Either stack may be a single row, compared with every row of the other."""
    j = np.count_nonzero(signatures == others, axis=1) / signatures.shape[1]
    sizes, other_sizes = np.asarray(sizes, np.int64), np.asarray(other_sizes, np.int64)
    smaller = np.minimum(sizes, other_sizes).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        overlap = j * (sizes + other_sizes).astype(np.float64) / (1.0 + j)
        scored = np.minimum(1.0, overlap / smaller)
    return np.where((j == 0.0) | (smaller == 0), j, scored)


def pick_near_original(
    sketch: Sketch,
    candidates: Sequence[tuple[str, tuple, Sketch]],
    threshold: float,
    fact_threshold: float,
) -> tuple[str, float] | None:
    """The best-ranked of `candidates` (article_id, rank, sketch) that `sketch` nearly duplicates, with
    its resemblance: what `pick_original` over `near_duplicate_similarity` gives, computed in one numpy
    pass over the candidates' signatures instead of a Python call per pair.

    Both gates must pass, so their order is free: the text gate runs first, over every candidate at
    once, and the facts (a set intersection per pair, the dearer check) only for the candidates whose
    text passes, best-ranked first, until one passes. Most LSH candidates are chance collisions of
    common phrases and stop at the first gate.
    """
    signature = sketch.signature
    usable = [c for c in candidates if c[2].signature.size == signature.size] if signature.size else []
    if not usable:
        return None
    others = np.stack([c[2].signature for c in usable])
    sizes = np.fromiter((c[2].size for c in usable), dtype=np.int64, count=len(usable))
    scores = text_scores(signature[None, :], np.array([sketch.size]), others, sizes)
    passing = np.flatnonzero(scores >= threshold).tolist()
    for i in sorted(passing, key=lambda i: (usable[i][1], usable[i][0])):
        if fact_overlap(sketch.facts, usable[i][2].facts) >= fact_threshold:
            return usable[i][0], float(scores[i])
    return None


def bucket_pairs(keys: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """`candidate_pairs` of every bucket at once, for members numbered by rank (0 = best-ranked).

    `keys` is (n, bands): the band keys of member i in row i. Returns (later, earlier) member numbers,
    each distinct pair once. One sort of (key, member) stands in for the GroupByKey of the pipeline.
    """
    n, bands = keys.shape
    flat = keys.ravel()
    owner = np.repeat(np.arange(n, dtype=np.int64), bands)
    order = np.lexsort((owner, flat))
    flat, owner = flat[order], owner[order]
    once = np.ones(flat.size, dtype=bool)  # a member holding one key twice is one member of its bucket
    once[1:] = (flat[1:] != flat[:-1]) | (owner[1:] != owner[:-1])
    flat, owner = flat[once], owner[once]
    starts = np.ones(flat.size, dtype=bool)
    starts[1:] = flat[1:] != flat[:-1]
    first = np.flatnonzero(starts)
    lengths = np.diff(np.append(first, flat.size))
    position = np.arange(flat.size) - np.repeat(first, lengths)  # place in its bucket, by rank
    count = np.minimum(position, limit)  # earlier members each member meets
    total = int(count.sum())
    later = np.repeat(owner, count)
    offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    earlier = owner[np.repeat(np.repeat(first, lengths), count) + offset]
    pair = np.unique(later * n + earlier)
    return pair // n, pair % n


def find_near_duplicates(
    docs: Sequence[tuple[str, tuple, Sketch]],
    *,
    bands: int,
    threshold: float,
    fact_threshold: float,
    earlier: Sequence[tuple[str, tuple, Sketch]] = (),
    limit: int = 16,
) -> dict[str, tuple[str, float]]:
    """In memory, what the batch composite computes with GroupByKey: article_id -> (original, similarity)
    for every doc of `docs` that nearly duplicates a better-ranked doc of `docs` or of `earlier`.

    Each doc is (article_id, rank, sketch); a lower rank came first. The same decisions as the
    composite: band keys, buckets paired as `candidate_pairs` pairs them, each pair once, and per doc
    the best-ranked candidate passing both gates, as `pick_near_original` picks it. Here all of a
    batch's pairs go through numpy together, and the grouping is a sort instead of a shuffle.
    """
    by_id = {d[0]: d for d in (*earlier, *docs)}
    new = {d[0] for d in docs}
    found: dict[str, tuple[str, float]] = {}
    lengths = sorted({d[2].signature.size for d in by_id.values()} - {0})
    for length in lengths:  # one length in practice (NUM_PERM); signatures of two lengths never match
        ranked = sorted(
            (d for d in by_id.values() if d[2].signature.size == length), key=lambda d: (d[1], d[0])
        )
        signatures = np.stack([d[2].signature for d in ranked])
        sizes = np.fromiter((d[2].size for d in ranked), dtype=np.int64, count=len(ranked))
        later, original = bucket_pairs(band_key_matrix(signatures, bands), limit)
        is_new = np.fromiter((d[0] in new for d in ranked), dtype=bool, count=len(ranked))
        later, original = later[is_new[later]], original[is_new[later]]
        scores = np.empty(later.size)
        for start in range(0, later.size, _PAIRS_AT_ONCE):  # bounded memory for the stacked signatures
            a, b = later[start : start + _PAIRS_AT_ONCE], original[start : start + _PAIRS_AT_ONCE]
            scores[start : start + a.size] = text_scores(signatures[a], sizes[a], signatures[b], sizes[b])
        # pairs come sorted by (later, original): the first pair of a later article whose facts also
        # agree is its best-ranked original, as in pick_near_original
        for i in np.flatnonzero(scores >= threshold).tolist():
            copy, source = ranked[later[i]], ranked[original[i]]
            if copy[0] not in found and fact_overlap(copy[2].facts, source[2].facts) >= fact_threshold:
                found[copy[0]] = (source[0], float(scores[i]))
    return found
