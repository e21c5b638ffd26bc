"""``clinical_medication_relations``: links attributes to Drug mentions (n2c2 2018 relations).

Candidates: each entity whose label ``L`` names a relation type ``L-Drug`` of the component,
paired with the Drugs within ``max_distance`` tokens of it (tokens strictly between the two
spans; sentence boundaries are ignored), at most ``max_candidates_per_entity`` nearest ones.
In training they come from the reference's gold entities (``doc.spans["entities"]``, else
``doc.ents``) aligned to the predicted tokens, labelled by ``doc._.relations``; at inference
from the predicted entities: ``doc.spans[spans_key]`` (the group a NER head writes), or
``doc.ents`` when ``spans_key`` is null.

Each candidate is represented by the mean token vectors of the attribute, the Drug and the
tokens between them, the attribute-Drug elementwise product and a learned embedding of the
signed, bucketed token distance; a hidden ReLU layer gives logits over ``none`` plus the
relation types. The softmax is masked to ``none`` and the one type the attribute's label
allows, so a predicted type always matches its arguments. All candidates of a batch of docs go
through the model at once; gradients reach the encoder (e.g. a transformer listener).

Output on each doc: the predicted entities get ids ``T1..Tn`` in document order (``span.id_``,
what :func:`clinical_ie.evaluation.metrics.relations.doc_relations` and the brat writer resolve), in
``doc.spans[spans_key]`` and on the same spans (offsets and label) of ``doc.ents``, so that
relations survive whichever of the two is exported; ``doc._.relations`` lists
``{"id": "R<n>", "type", "arg1": <attribute id>, "arg2": <Drug id>, "confidence"}`` for each
candidate whose type probability reaches ``threshold``.

Pipeline config (after a NER head writing ``doc.spans["medication"]``, listening to
``transformer``)::

    [components.relations]
    factory = "clinical_medication_relations"
    spans_key = "medication"
    max_distance = 60
    max_candidates_per_entity = 4
    threshold = 0.5
    learn_rate_scale = 10.0

    [components.relations.model]
    @architectures = "clinical_ie.RelationClassifier.v1"
    hidden_width = 128
    distance_width = 16
    nO = null

    [components.relations.model.tok2vec]
    @architectures = "spacy-transformers.TransformerListener.v1"
    grad_factor = 1.0
    upstream = "transformer"

    [components.relations.model.tok2vec.pooling]
    @layers = "reduce_mean.v1"

    [components.relations.scorer]
    @scorers = "clinical_ie.relation_scorer.v1"

Scores (micro over the corpus, as the official n2c2 script): ``rel_strict_p/r/f``,
``rel_lenient_p/r/f`` and ``rel_strict_per_type`` / ``rel_lenient_per_type``
(``{type: {"p", "r", "f"}}``).
"""

from itertools import islice
from typing import Callable, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_get_examples
from thinc.api import Model
from thinc.types import Floats1d, Floats2d

from ..base import LabelledHead, default_model_config
from ..data_model import entity_spans, group_spans
from .candidates import Candidates, candidate_pairs
from .model import DEFAULT_RELATION_MODEL, RelationInput, masked_softmax
from .scorer import score_relation_examples

NO_RELATION = 0
"""Class index of "no relation"; class ``i + 1`` is the component's ``labels[i]``."""


@Language.factory(
    "clinical_medication_relations",
    assigns=["doc._.relations", "token.ent_id"],
    default_config={
        "model": default_model_config(DEFAULT_RELATION_MODEL),
        "spans_key": None,
        "max_distance": 60,
        "max_candidates_per_entity": 4,
        "threshold": 0.5,
        "learn_rate_scale": 10.0,
        "scorer": {"@scorers": "clinical_ie.relation_scorer.v1"},
    },
    default_score_weights={
        "rel_lenient_f": 1.0,
        "rel_lenient_p": 0.0,
        "rel_lenient_r": 0.0,
        "rel_strict_f": 0.0,
        "rel_strict_p": 0.0,
        "rel_strict_r": 0.0,
        "rel_lenient_per_type": None,
        "rel_strict_per_type": None,
    },
)
def make_medication_relations(
    nlp: Language,
    name: str,
    model: Model[RelationInput, Floats2d],
    spans_key: Optional[str],
    max_distance: int,
    max_candidates_per_entity: int,
    threshold: float,
    learn_rate_scale: float,
    scorer: Optional[Callable],
) -> "MedicationRelationExtractor":
    """A medication relation component; see the module docstring for its config."""
    return MedicationRelationExtractor(
        nlp.vocab,
        model,
        name,
        spans_key=spans_key,
        max_distance=max_distance,
        max_candidates_per_entity=max_candidates_per_entity,
        threshold=threshold,
        learn_rate_scale=learn_rate_scale,
        scorer=scorer,
    )


def with_id(span: Span, span_id: str) -> Span:
    """A copy of ``span`` whose ``id_`` is ``span_id``, keeping label, KB id and confidence."""
    named = Span(span.doc, span.start, span.end, label=span.label, kb_id=span.kb_id, span_id=span_id)
    named._.confidence = span._.confidence
    return named


class DocPredictions(NamedTuple):
    """Candidates of one doc and the probability of each one's relation type."""

    candidates: Candidates
    probabilities: Floats1d


class MedicationRelationExtractor(LabelledHead):
    """Classifies (attribute, Drug) candidates into ``none`` or the attribute's relation type.

    cfg: ``labels`` (relation types ``<Attribute>-Drug``; class ``i + 1`` is ``labels[i]``),
    ``spans_key`` (where the predicted entities are: ``doc.spans[spans_key]``, or ``doc.ents``
    when None), ``max_distance`` and ``max_candidates_per_entity`` (candidate generation, see
    :func:`candidate_pairs`), ``threshold`` (least type probability of an output relation),
    ``learn_rate_scale`` (the head's learning rate over the encoder's, as in the CRF head).
    """

    def __init__(
        self,
        vocab,
        model: Model,
        name: str = "clinical_medication_relations",
        *,
        spans_key: Optional[str] = None,
        max_distance: int = 60,
        max_candidates_per_entity: int = 4,
        threshold: float = 0.5,
        learn_rate_scale: float = 1.0,
        scorer: Optional[Callable] = score_relation_examples,
    ) -> None:
        super().__init__(
            vocab,
            model,
            name,
            scorer=scorer,
            spans_key=spans_key,
            max_distance=max_distance,
            max_candidates_per_entity=max_candidates_per_entity,
            threshold=threshold,
            learn_rate_scale=learn_rate_scale,
        )

    def check_label(self, label: str) -> None:
        if not label.endswith("-Drug") or label == "Drug-Drug":
            raise ValueError(f"{self.name}: relation type {label!r} is not '<Attribute>-Drug'")

    def is_initialized(self) -> bool:
        return self.model.get_ref("output_layer").has_param("W")

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Sequence[str]] = None,
    ) -> None:
        """Add ``labels`` (default: every gold relation type in the examples, sorted) and
        initialize the model."""
        validate_get_examples(get_examples, "MedicationRelationExtractor.initialize")
        if labels is None:
            labels = sorted({r["type"] for eg in get_examples() for r in eg.reference._.relations or []})
        for label in labels:
            self.add_label(label)
        if not self.labels:
            raise ValueError(f"{self.name}: no relation types; give labels or examples with doc._.relations")
        self.model.get_ref("output_layer").set_dim("nO", len(self.labels) + 1)
        sample = list(islice(get_examples(), 10))
        self.model.initialize(
            X=([eg.predicted for eg in sample], [self._gold_candidates(eg).token_rows() for eg in sample])
        )

    def candidates(self, entities: Sequence[Span]) -> Candidates:
        """The candidate pairs of one doc's ``entities`` (see :func:`candidate_pairs`)."""
        entities = list(entities)
        pairs = candidate_pairs(
            entities, self.labels, self.cfg["max_distance"], self.cfg["max_candidates_per_entity"]
        )
        return Candidates(entities, pairs)

    def predict(self, docs: Iterable[Doc]) -> List[DocPredictions]:
        """Candidates from each doc's predicted entities and their type probabilities."""
        docs = list(docs)
        candidates = [self.candidates(group_spans(doc, self.cfg.get("spans_key"))) for doc in docs]
        keep = [i for i, c in enumerate(candidates) if c.pairs]
        probabilities = [numpy.zeros((len(c.pairs),), dtype="float32") for c in candidates]
        if keep:
            kept = [candidates[i] for i in keep]
            logits = self.model.predict(([docs[i] for i in keep], [c.token_rows() for c in kept]))
            ends = numpy.cumsum([len(c.pairs) for c in kept])
            for i, values in zip(keep, numpy.split(self._type_probabilities(logits, kept), ends[:-1])):
                probabilities[i] = values
        return [DocPredictions(c, p) for c, p in zip(candidates, probabilities)]

    def set_annotations(self, docs: Iterable[Doc], predictions: List[DocPredictions]) -> None:
        """Name the predicted entities ``T1..Tn`` in order (in ``doc.spans[spans_key]`` and on
        the same spans of ``doc.ents``) and write ``doc._.relations`` (replacing it)."""
        threshold = self.cfg["threshold"]
        key = self.cfg.get("spans_key")
        for doc, (candidates, probabilities) in zip(docs, predictions):
            ids = [f"T{i}" for i in range(1, len(candidates.entities) + 1)]
            named = [with_id(entity, entity_id) for entity, entity_id in zip(candidates.entities, ids)]
            if key is None:
                doc.ents = named
            else:
                doc.spans[key] = named
                id_of = {(span.start, span.end, span.label): span.id_ for span in named}
                doc.ents = [with_id(ent, id_of.get((ent.start, ent.end, ent.label), ent.id_)) for ent in doc.ents]
            relations = []
            for (a, d), probability in zip(candidates.pairs, probabilities.tolist()):
                if probability >= threshold:
                    relations.append(
                        {
                            "id": f"R{len(relations) + 1}",
                            "type": f"{candidates.entities[a].label_}-Drug",
                            "arg1": ids[a],
                            "arg2": ids[d],
                            "confidence": probability,
                        }
                    )
            doc._.relations = relations

    def learn(self, examples: List[Example]) -> float:
        """Summed cross-entropy of the gold-entity candidates; gradients reach the encoder.

        The model always runs, even on a batch without candidates, so that a shared
        transformer whose last listener this is still receives its backward pass.
        """
        candidates = [self._gold_candidates(eg) for eg in examples]
        logits, backprop = self.model.begin_update(
            ([eg.predicted for eg in examples], [c.token_rows() for c in candidates])
        )
        loss, d_logits = self.get_loss(examples, logits, candidates)
        backprop(d_logits)
        return loss

    def get_loss(
        self, examples: Iterable[Example], logits: Floats2d, candidates: Optional[List[Candidates]] = None
    ) -> Tuple[float, Floats2d]:
        """Summed masked-softmax cross-entropy of the gold-entity candidates and its gradient."""
        examples = list(examples)
        if candidates is None:
            candidates = [self._gold_candidates(eg) for eg in examples]
        ops = self.model.ops
        allowed = ops.asarray2f(self._allowed_classes(candidates))
        gold = ops.asarray1i(numpy.concatenate([self._gold_classes(eg, c) for eg, c in zip(examples, candidates)]))
        probabilities = masked_softmax(ops, logits, allowed)
        target = ops.alloc2f(*logits.shape)
        target[ops.xp.arange(len(gold)), gold] = 1.0
        picked = probabilities[ops.xp.arange(len(gold)), gold]
        loss = float(-ops.xp.log(ops.xp.maximum(picked, 1e-12)).sum())
        return loss, (probabilities - target).astype("float32")

    def _type_probabilities(self, logits: Floats2d, candidates: List[Candidates]) -> numpy.ndarray:
        """Probability of each candidate's relation type (its attribute's label)."""
        ops = self.model.ops
        allowed = self._allowed_classes(candidates)
        probabilities = ops.to_numpy(masked_softmax(ops, logits, ops.asarray2f(allowed)))
        type_class = allowed[:, 1:].argmax(axis=1) + 1
        return probabilities[numpy.arange(len(type_class)), type_class]

    def _allowed_classes(self, candidates: List[Candidates]) -> numpy.ndarray:
        """(n_candidates, n_classes) 0/1 mask: ``none`` and the attribute's relation type."""
        class_of_label = {label[: -len("-Drug")]: i + 1 for i, label in enumerate(self.labels)}
        types = [class_of_label[c.entities[a].label_] for c in candidates for a, _ in c.pairs]
        allowed = numpy.zeros((len(types), len(self.labels) + 1), dtype="float32")
        allowed[:, NO_RELATION] = 1.0
        allowed[numpy.arange(len(types)), types] = 1.0
        return allowed

    def _gold_candidates(self, example: Example) -> Candidates:
        """Candidates from the reference's gold entities, as spans of the predicted doc
        (expanded to its token boundaries) keeping their ids."""
        predicted = example.predicted
        aligned = []
        for span in entity_spans(example.reference):
            token_span = predicted.char_span(
                span.start_char, span.end_char, label=span.label_, alignment_mode="expand", span_id=span.id_
            )
            if token_span is not None:
                aligned.append(token_span)
        return self.candidates(aligned)

    def _gold_classes(self, example: Example, candidates: Candidates) -> numpy.ndarray:
        """Gold class per candidate: its type's class when ``doc._.relations`` links the pair."""
        linked = {(r["arg1"], r["arg2"], r["type"]) for r in example.reference._.relations or []}
        classes = []
        for a, d in candidates.pairs:
            attribute, drug = candidates.entities[a], candidates.entities[d]
            relation_type = f"{attribute.label_}-Drug"
            is_linked = (attribute.id_, drug.id_, relation_type) in linked
            classes.append(self.labels.index(relation_type) + 1 if is_linked else NO_RELATION)
        return numpy.asarray(classes, dtype="int32")
