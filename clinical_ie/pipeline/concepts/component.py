"""The ``clinical_concept_linker`` component: Drug spans coded from the user's vocabulary.

The vocabulary (an OHDSI Athena export folder or RxNorm's ``RXNCONSO.RRF``,
:mod:`.vocabulary`) is read once, at ``initialize``, into a :class:`~.index.ConceptIndex`
saved with the pipeline (``concept_index.npz`` in the component's folder): nothing is read or
downloaded when the pipeline runs. Without a vocabulary the component links nothing.

``span._.concepts`` of each span of ``labels`` (in ``doc.ents``, or ``doc.spans[spans_key]``)
is the ranked list of concept dicts (``id``, ``code``, ``vocabulary``, ``name``, ``score``,
``source_id``; :meth:`~.index.ConceptIndex.concept`), empty when none scores ``min_score``.
Medication records carry the first as ``concept``.
"""

from pathlib import Path
from typing import Callable, Iterable, List, Optional, Union

import srsly
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import ensure_path

from ..data_model import group_spans
from .index import ConceptIndex
from .vocabulary import read_vocabulary

INDEX_FILE = "concept_index.npz"


class ConceptLinker:
    """Links spans to concepts of a :class:`ConceptIndex` (see the module docstring)."""

    def __init__(self, name: str = "clinical_concept_linker", *, labels: List[str], spans_key: Optional[str],
                 min_score: float, max_concepts: int):
        if not 0.0 < min_score <= 1.0:
            raise ValueError(f"min_score must be in (0, 1], not {min_score}")
        if max_concepts < 1:
            raise ValueError("max_concepts must be at least 1")
        self.name = name
        self.cfg = {"labels": list(labels), "spans_key": spans_key, "min_score": min_score, "max_concepts": max_concepts}
        self.index: Optional[ConceptIndex] = None

    def initialize(self, get_examples: Optional[Callable[[], Iterable]] = None, *, nlp: Optional[Language] = None,
                   vocabulary: Optional[Union[str, Path]] = None) -> None:
        """Build the index from ``vocabulary`` (Athena folder or ``RXNCONSO.RRF``); None keeps
        the current index (none: link nothing)."""
        if vocabulary is not None:
            self.index = ConceptIndex.build(read_vocabulary(vocabulary))

    def __call__(self, doc: Doc) -> Doc:
        if self.index is None:
            return doc
        labels = set(self.cfg["labels"])
        for span in group_spans(doc, self.cfg["spans_key"]):
            if span.label_ in labels:
                span._.concepts = self.index.lookup(span.text, self.cfg["min_score"], self.cfg["max_concepts"])
        return doc

    # --- serialization: the index (the settings are the factory's, in config.cfg) ---------

    def to_bytes(self, *, exclude=tuple()) -> bytes:
        return srsly.msgpack_dumps({"index": None if self.index is None else self.index.to_bytes()})

    def from_bytes(self, data: bytes, *, exclude=tuple()) -> "ConceptLinker":
        stored = srsly.msgpack_loads(data)["index"]
        self.index = None if stored is None else ConceptIndex.from_bytes(stored)
        return self

    def to_disk(self, path, *, exclude=tuple()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.index is not None:
            (path / INDEX_FILE).write_bytes(self.index.to_bytes())

    def from_disk(self, path, *, exclude=tuple()) -> "ConceptLinker":
        index_path = ensure_path(path) / INDEX_FILE
        self.index = ConceptIndex.from_bytes(index_path.read_bytes()) if index_path.exists() else None
        return self


@Language.factory(
    "clinical_concept_linker",
    default_config={"labels": ["Drug"], "spans_key": None, "min_score": 0.8, "max_concepts": 5},
)
def make_concept_linker(nlp: Language, name: str, labels: List[str], spans_key: Optional[str], min_score: float,
                        max_concepts: int) -> ConceptLinker:
    """Build the ``clinical_concept_linker`` component (its index comes from ``initialize``)."""
    return ConceptLinker(name, labels=labels, spans_key=spans_key, min_score=min_score, max_concepts=max_concepts)
