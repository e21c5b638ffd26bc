"""Candidate (attribute, Drug) pairs of one doc: attributes paired with the nearest Drugs."""

from bisect import bisect_left, bisect_right
from typing import Iterable, List, NamedTuple, Sequence, Tuple

import numpy
from spacy.tokens import Span


class Candidates(NamedTuple):
    """Candidate pairs of one doc: ``(attribute index, Drug index)`` into ``entities``."""

    entities: List[Span]
    pairs: List[Tuple[int, int]]

    def token_rows(self) -> numpy.ndarray:
        """The pairs as model input rows ``[attr_start, attr_end, drug_start, drug_end]``."""
        rows = [
            (self.entities[a].start, self.entities[a].end, self.entities[d].start, self.entities[d].end)
            for a, d in self.pairs
        ]
        return numpy.asarray(rows, dtype="int32").reshape(len(rows), 4)


def token_gap(first: Span, second: Span) -> int:
    """Number of tokens strictly between two spans (0 when they touch or overlap)."""
    return max(0, max(first.start, second.start) - min(first.end, second.end))


def candidate_pairs(
    entities: Sequence[Span], relation_types: Iterable[str], max_distance: int, max_candidates_per_entity: int
) -> List[Tuple[int, int]]:
    """``(attribute index, Drug index)`` pairs into ``entities``, by attribute then nearness.

    An attribute is an entity whose ``<label>-Drug`` is in ``relation_types``; it is paired
    with the Drugs at most ``max_distance`` tokens away (:func:`token_gap`), the
    ``max_candidates_per_entity`` nearest ones (ties: earlier Drug first).
    """
    attribute_labels = {t[: -len("-Drug")] for t in relation_types if t.endswith("-Drug")} - {"Drug"}
    drugs = sorted((i for i, e in enumerate(entities) if e.label_ == "Drug"), key=lambda i: entities[i].start)
    if not drugs:
        return []
    drug_starts = [entities[i].start for i in drugs]
    longest_drug = max(len(entities[i]) for i in drugs)
    pairs = []
    for a, attribute in enumerate(entities):
        if attribute.label_ not in attribute_labels:
            continue
        window = drugs[
            bisect_left(drug_starts, attribute.start - max_distance - longest_drug) : bisect_right(
                drug_starts, attribute.end + max_distance
            )
        ]
        near = [(token_gap(attribute, entities[d]), entities[d].start, d) for d in window]
        near = sorted(item for item in near if item[0] <= max_distance)
        pairs.extend((a, d) for _, _, d in near[:max_candidates_per_entity])
    return pairs
