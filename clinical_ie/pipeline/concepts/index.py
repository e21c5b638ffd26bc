"""The concept index of ``clinical_concept_linker``: exact match after normalization, then fuzzy
match on character trigrams, over a :class:`~.vocabulary.Vocabulary`.

**Normalization** (:func:`normalize`): Unicode NFKC, lower case, every run of characters other
than letters and digits one space. A mention that matches no name as it is is tried again without
its salt words (:data:`SALT_WORDS`: ``metoprolol tartrate`` -> ``metoprolol``), at score
:data:`SALT_SCORE`. **Fuzzy**: the Dice coefficient of the sets of character trigrams of the
mention and of a name (each padded with one space at either end), as scispacy's linker compares
character n-grams; only names holding one of the mention's rarest trigrams can reach
``min_score`` (prefix filtering), so only those are scored. A mention is
linked to the concepts of the best names scoring at least ``min_score``; the others stay uncoded.

Among concepts of equally scored names, standard concepts come first, then by class
(:data:`CLASS_ORDER`: ingredients before brands before drugs). A concept that stands for
another (Athena's ``Maps to``, or a Brand Name related to its Ingredient) is reported as that
other concept, with ``source_id`` the one matched.

The index is stored as numpy arrays (:meth:`ConceptIndex.to_bytes`, ``numpy.savez_compressed``):
names and concept strings as one UTF-8 blob each, postings of each trigram as gaps.
"""

import io
import math
import re
import unicodedata
from typing import Dict, List, Optional, Sequence

import numpy

from .vocabulary import Vocabulary

NON_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")
SALT_WORDS = frozenset(
    "hydrochloride hcl hydrobromide hbr sulfate sulphate sodium potassium calcium magnesium tartrate succinate "
    "maleate mesylate besylate fumarate citrate acetate phosphate bitartrate chloride bromide".split()
)
SALT_SCORE = 0.99
"""Score of a match found only once the mention's salt words are dropped."""
CLASS_ORDER = (
    "Ingredient", "Multiple Ingredients", "Precise Ingredient", "Brand Name", "Clinical Drug Form",
    "Branded Drug Form", "Clinical Drug Comp", "Branded Drug Comp", "Clinical Drug", "Branded Drug",
)
"""Concept classes in the order ties are broken; classes not listed come after them."""
SEPARATOR = "\x1f"
NGRAM = 3


def normalize(text: str) -> str:
    """NFKC, lower case, runs of non-alphanumerics as one space, stripped."""
    return NON_ALPHANUMERIC.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def without_salts(key: str) -> str:
    """``key`` less its salt words, or ``""`` when nothing else is left."""
    words = [word for word in key.split() if word not in SALT_WORDS]
    return " ".join(words) if len(words) < len(key.split()) else ""


def trigrams(key: str) -> List[str]:
    """The distinct character trigrams of `` key ``, sorted."""
    padded = f" {key} "
    return sorted({padded[i : i + NGRAM] for i in range(len(padded) - NGRAM + 1)})


def _join(strings: Sequence[str]) -> numpy.ndarray:
    return numpy.frombuffer(SEPARATOR.join(s.replace(SEPARATOR, " ") for s in strings).encode("utf8"), dtype=numpy.uint8)


def _split(blob: numpy.ndarray) -> List[str]:
    return blob.tobytes().decode("utf8").split(SEPARATOR) if blob.size else []


class ConceptIndex:
    """Normalized names -> concepts, and a trigram inverted index over the names."""

    ARRAYS = ("keys", "key_ptr", "key_concepts", "key_grams", "grams", "gram_ptr", "gram_gaps", "concept_id",
              "codes", "vocabularies", "names", "classes", "standard", "target")

    def __init__(self, arrays: Dict[str, numpy.ndarray]):
        self.arrays = arrays
        self.keys = _split(arrays["keys"])
        self.key_ids = {key: i for i, key in enumerate(self.keys)}
        self.grams = {gram: i for i, gram in enumerate(_split(arrays["grams"]))}
        gram_ptr = arrays["gram_ptr"]
        postings = numpy.cumsum(arrays["gram_gaps"].astype(numpy.int64))
        starts = numpy.repeat(numpy.concatenate([[0], postings[gram_ptr[1:-1] - 1]]), numpy.diff(gram_ptr))
        self.postings = (postings - starts).astype(numpy.int32)  # gaps restart at each trigram
        self.codes = _split(arrays["codes"])
        self.vocabularies = _split(arrays["vocabularies"])
        self.names = _split(arrays["names"])
        self.classes = _split(arrays["classes"])
        rank = {name: i for i, name in enumerate(CLASS_ORDER)}
        self.concept_rank = [(not standard, rank.get(cls, len(CLASS_ORDER))) for standard, cls in zip(arrays["standard"], self.classes)]

    @classmethod
    def build(cls, vocabulary: Vocabulary) -> "ConceptIndex":
        """Index every name of ``vocabulary`` (names that normalize to nothing are left out)."""
        key_concepts: Dict[str, List[int]] = {}
        for name, concept in vocabulary.names:
            key = normalize(name)
            if key and concept not in key_concepts.setdefault(key, []):
                key_concepts[key].append(concept)
        keys = list(key_concepts)
        gram_keys: Dict[str, List[int]] = {}
        key_grams = numpy.zeros(len(keys), dtype=numpy.uint16)
        for key_id, key in enumerate(keys):
            grams = trigrams(key)
            key_grams[key_id] = min(len(grams), numpy.iinfo(numpy.uint16).max)
            for gram in grams:
                gram_keys.setdefault(gram, []).append(key_id)
        grams = sorted(gram_keys)
        gram_ptr = numpy.zeros(len(grams) + 1, dtype=numpy.int64)
        gaps = []
        for i, gram in enumerate(grams):
            ids = numpy.asarray(gram_keys[gram], dtype=numpy.int64)
            gaps.append(numpy.diff(ids, prepend=0))
            gram_ptr[i + 1] = gram_ptr[i] + len(ids)
        concepts = vocabulary.concepts
        arrays = {
            "keys": _join(keys),
            "key_ptr": numpy.cumsum([0] + [len(key_concepts[key]) for key in keys]).astype(numpy.int64),
            "key_concepts": numpy.asarray([c for key in keys for c in key_concepts[key]], dtype=numpy.int32),
            "key_grams": key_grams,
            "grams": _join(grams),
            "gram_ptr": gram_ptr,
            "gram_gaps": (numpy.concatenate(gaps) if gaps else numpy.zeros(0)).astype(numpy.uint32),
            "concept_id": numpy.asarray([-1 if c.concept_id is None else c.concept_id for c in concepts], dtype=numpy.int64),
            "codes": _join([c.code for c in concepts]),
            "vocabularies": _join([c.vocabulary for c in concepts]),
            "names": _join([c.name for c in concepts]),
            "classes": _join([c.concept_class for c in concepts]),
            "standard": numpy.asarray([c.standard for c in concepts], dtype=bool),
            "target": numpy.asarray([vocabulary.target.get(i, -1) for i in range(len(concepts))], dtype=numpy.int32),
        }
        return cls(arrays)

    def __len__(self) -> int:
        return len(self.codes)

    # --- serialization ---------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        numpy.savez_compressed(buffer, **{name: self.arrays[name] for name in self.ARRAYS})
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "ConceptIndex":
        with numpy.load(io.BytesIO(data), allow_pickle=False) as stored:
            return cls({name: stored[name] for name in cls.ARRAYS})

    # --- lookup ----------------------------------------------------------------------------

    def concept(self, index: int, score: float, source: Optional[int] = None) -> Dict[str, object]:
        """The concept at ``index`` as a dict: ``id`` (None without an OMOP id), ``code``,
        ``vocabulary``, ``name``, ``score``, ``source_id`` (the concept matched)."""
        concept_id = int(self.arrays["concept_id"][index])
        source_id = int(self.arrays["concept_id"][index if source is None else source])
        return {
            "id": None if concept_id < 0 else concept_id,
            "code": self.codes[index],
            "vocabulary": self.vocabularies[index],
            "name": self.names[index],
            "score": round(float(score), 4),
            "source_id": None if source_id < 0 else source_id,
        }

    def _key_concepts(self, key_id: int) -> List[int]:
        ptr = self.arrays["key_ptr"]
        return sorted(self.arrays["key_concepts"][ptr[key_id] : ptr[key_id + 1]].tolist(), key=lambda c: self.concept_rank[c])

    def scored_keys(self, key: str, min_score: float, limit: int) -> List[tuple]:
        """``(score, key id)`` of the best names for ``key``: an exact match, else its salt-less
        form's, else the trigram Dice scores of at least ``min_score``, best first."""
        if key in self.key_ids:
            return [(1.0, self.key_ids[key])]
        salt_free = without_salts(key)
        if salt_free in self.key_ids:
            return [(SALT_SCORE, self.key_ids[salt_free])]
        grams = trigrams(key)
        known = [self.grams[gram] for gram in grams if gram in self.grams]
        ptr = self.arrays["gram_ptr"]
        known.sort(key=lambda g: ptr[g + 1] - ptr[g])  # rarest first
        # Dice >= min_score needs at least ceil(min_score * |Q| / (2 - min_score)) shared trigrams, so
        # a name scoring enough holds one of the |Q| - that + 1 rarest (prefix filtering); the
        # trigrams unknown to the index are the rarest of all.
        needed = math.ceil(min_score * len(grams) / (2 - min_score) - 1e-9)
        prefix = len(grams) - needed + 1 - (len(grams) - len(known))
        if prefix <= 0 or not known:
            return []
        hits = numpy.concatenate([self.postings[ptr[g] : ptr[g + 1]] for g in known[:prefix]])
        key_ids, shared = numpy.unique(hits, return_counts=True)
        for g in known[prefix:]:
            posting = self.postings[ptr[g] : ptr[g + 1]]
            found = numpy.minimum(numpy.searchsorted(posting, key_ids), len(posting) - 1)
            shared += posting[found] == key_ids
        scores = 2.0 * shared / (len(grams) + self.arrays["key_grams"][key_ids])
        keep = scores >= min_score
        key_ids, scores = key_ids[keep], scores[keep]
        best = numpy.lexsort((key_ids, -scores))[:limit]
        return [(float(scores[i]), int(key_ids[i])) for i in best]

    def lookup(self, text: str, min_score: float = 0.8, limit: int = 5) -> List[Dict[str, object]]:
        """Up to ``limit`` concepts for a mention, ranked (see the module docstring); [] if none."""
        results: List[Dict[str, object]] = []
        seen = set()
        for score, key_id in self.scored_keys(normalize(text), min_score, limit):
            for concept in self._key_concepts(key_id):
                target = int(self.arrays["target"][concept])
                reported = concept if target < 0 else target
                if reported in seen:
                    continue
                seen.add(reported)
                results.append(self.concept(reported, score, source=concept))
                if len(results) == limit:
                    return results
        return results
