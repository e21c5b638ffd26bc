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
what :func:`clinical_ie.metrics.relations.doc_relations` and the brat writer resolve), in
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

from bisect import bisect_left, bisect_right
from itertools import islice
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy
from spacy.errors import Errors
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.util import registry
from thinc.api import Config, Linear, Model, Optimizer, Relu, chain, set_dropout_rate
from thinc.types import Floats1d, Floats2d, Ints1d, Ints2d

from ..metrics.relations import doc_relations, score_relations
from ..metrics.spans import MATCH_MODES
from ..records import entity_spans, register_medications_extension
from .learn_rate import ScaledLearnRate

NO_RELATION = 0
"""Class index of "no relation"; class ``i + 1`` is the component's ``labels[i]``."""

DISTANCE_BUCKETS = (0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
"""Lower bounds of the token-gap buckets; each bucket exists twice (attribute before or
after the Drug)."""

DEFAULT_RELATION_MODEL = """
[model]
@architectures = "clinical_ie.RelationClassifier.v1"
hidden_width = 128
distance_width = 16

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""

RelationInput = Tuple[List[Doc], List[Ints2d]]
"""Docs and, per doc, candidate rows ``[attr_start, attr_end, drug_start, drug_end]`` (tokens)."""


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


def distance_buckets(ops, rows: Ints2d) -> Ints1d:
    """Embedding row per candidate: gap bucket, offset by the bucket count when the
    attribute starts after the Drug."""
    xp = ops.xp
    gaps = xp.maximum(0, xp.maximum(rows[:, 0], rows[:, 2]) - xp.minimum(rows[:, 1], rows[:, 3]))
    buckets = xp.searchsorted(xp.asarray(DISTANCE_BUCKETS), gaps, side="right") - 1
    return (buckets + len(DISTANCE_BUCKETS) * (rows[:, 0] > rows[:, 2])).astype("int32")


def range_means(xp, prefix_sums, starts: Ints1d, ends: Ints1d) -> Floats2d:
    """Mean of rows ``starts[i]:ends[i]`` from ``prefix_sums`` (one leading zero row); 0 when empty."""
    lengths = (ends - starts).reshape(-1, 1)
    return (prefix_sums[ends] - prefix_sums[starts]) / xp.maximum(lengths, 1)


def range_means_backward(ops, d_means: Floats2d, starts: Ints1d, ends: Ints1d, n_rows: int) -> Floats2d:
    """Gradient of :func:`range_means` with respect to the ``n_rows`` summed rows."""
    xp = ops.xp
    lengths = (ends - starts).reshape(-1, 1)
    scaled = (d_means / xp.maximum(lengths, 1)).astype("float32")
    d_prefix = ops.alloc2f(n_rows + 1, d_means.shape[1])
    ops.scatter_add(d_prefix, ends, scaled)
    ops.scatter_add(d_prefix, starts, -scaled)
    return xp.ascontiguousarray(xp.cumsum(d_prefix[:0:-1], axis=0)[::-1])


@registry.architectures("clinical_ie.RelationClassifier.v1")
def build_relation_classifier(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 128,
    distance_width: int = 16,
    nO: Optional[int] = None,
) -> Model[RelationInput, Floats2d]:
    """Logits (n_candidates, nO) over ``none`` + relation types for the candidates of a batch.

    tok2vec: token vectors, e.g. ``spacy-transformers.TransformerListener.v1``.
    hidden_width: width of the ReLU layer over the pair features.
    distance_width: width of the distance-bucket embedding.
    nO: number of classes (relation types + 1); set by the component at initialization.
    """
    pair_features = Model(
        "relation_pair_features",
        _pair_features_forward,
        init=_pair_features_init,
        layers=[tok2vec],
        refs={"tok2vec": tok2vec},
        params={"distance_embeddings": None},
        dims={"nO": None, "distance_width": distance_width},
    )
    model = chain(pair_features, Relu(nO=hidden_width, dropout=0.0), Linear(nO=nO))
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", model.layers[-1])
    return model


def _pair_features_init(model: Model, X: Optional[RelationInput] = None, Y=None) -> None:
    """Set the output width from the token vectors' width and draw the distance embeddings."""
    tok2vec = model.get_ref("tok2vec")
    if X is not None:
        tok2vec.initialize(X=X[0])
        token_width = tok2vec.predict(X[0][:1])[0].shape[1]
    else:
        tok2vec.initialize()
        token_width = tok2vec.get_dim("nO")
    distance_width = model.get_dim("distance_width")
    model.set_dim("nO", 4 * token_width + distance_width)
    shape = (2 * len(DISTANCE_BUCKETS), distance_width)
    model.set_param("distance_embeddings", model.ops.asarray2f(numpy.random.normal(0.0, 0.1, shape)))


def _pair_features_forward(model: Model, inputs: RelationInput, is_train: bool):
    docs, candidate_rows = inputs
    ops = model.ops
    xp = ops.xp
    token_vectors, backprop_tokens = model.get_ref("tok2vec")(docs, is_train)
    lengths = [len(vectors) for vectors in token_vectors]
    n_tokens = sum(lengths)
    flat = ops.flatten(token_vectors)
    offsets = numpy.cumsum([0] + lengths[:-1])
    rows = ops.asarray2i(
        numpy.concatenate([numpy.asarray(r) + offset for r, offset in zip(candidate_rows, offsets)]).reshape(-1, 4)
    )
    prefix_sums = xp.concatenate([xp.zeros((1, flat.shape[1])), xp.cumsum(flat, axis=0, dtype="float64")])
    between_starts = xp.minimum(rows[:, 1], rows[:, 3])
    between_ends = xp.maximum(between_starts, xp.maximum(rows[:, 0], rows[:, 2]))
    ranges = [(rows[:, 0], rows[:, 1]), (rows[:, 2], rows[:, 3]), (between_starts, between_ends)]
    attribute, drug, between = (range_means(xp, prefix_sums, s, e).astype("float32") for s, e in ranges)
    buckets = distance_buckets(ops, rows)
    distance = model.get_param("distance_embeddings")[buckets]
    features = xp.hstack([attribute, drug, between, attribute * drug, distance])

    def backprop(d_features: Floats2d):
        width = attribute.shape[1]
        d_attribute, d_drug, d_between, d_product = (d_features[:, i * width : (i + 1) * width] for i in range(4))
        d_attribute = d_attribute + d_product * drug
        d_drug = d_drug + d_product * attribute
        d_flat = sum(
            range_means_backward(ops, d_mean, s, e, n_tokens)
            for d_mean, (s, e) in zip((d_attribute, d_drug, d_between), ranges)
        )
        d_embeddings = ops.alloc2f(*model.get_param("distance_embeddings").shape)
        ops.scatter_add(d_embeddings, buckets, xp.ascontiguousarray(d_features[:, 4 * width :]))
        model.inc_grad("distance_embeddings", d_embeddings)
        return backprop_tokens(ops.unflatten(d_flat, lengths))

    return features, backprop


def masked_softmax(ops, logits: Floats2d, allowed: Floats2d) -> Floats2d:
    """Softmax of each row over the classes where ``allowed`` is 1 (0 elsewhere)."""
    xp = ops.xp
    shifted = logits - xp.max(xp.where(allowed > 0, logits, -xp.inf), axis=1, keepdims=True)
    exp = xp.exp(xp.where(allowed > 0, shifted, 0.0)) * allowed
    return exp / exp.sum(axis=1, keepdims=True)


def score_relation_examples(examples: Iterable[Example], *, labels: Optional[Sequence[str]] = None, **cfg) -> Dict:
    """Micro ``rel_<mode>_p/r/f`` and ``rel_<mode>_per_type`` (mode ``strict`` / ``lenient``) of
    ``predicted._.relations`` against ``reference._.relations``, via
    :func:`clinical_ie.metrics.relations.score_relations` (types: ``labels``, else every type seen)."""
    examples = list(examples)
    scores = score_relations(
        [doc_relations(eg.reference) for eg in examples],
        [doc_relations(eg.predicted) for eg in examples],
        types=list(labels) if labels else None,
    )
    result: Dict[str, object] = {}
    for mode in MATCH_MODES:
        micro = scores[mode]["micro"]
        result[f"rel_{mode}_p"] = micro["precision"]
        result[f"rel_{mode}_r"] = micro["recall"]
        result[f"rel_{mode}_f"] = micro["f1"]
        result[f"rel_{mode}_per_type"] = {
            t: {"p": c["precision"], "r": c["recall"], "f": c["f1"]} for t, c in scores[mode]["per_type"].items()
        }
    return result


@registry.scorers("clinical_ie.relation_scorer.v1")
def make_relation_scorer() -> Callable:
    return score_relation_examples


@Language.factory(
    "clinical_medication_relations",
    assigns=["doc._.relations", "token.ent_id"],
    default_config={
        "model": Config().from_str(DEFAULT_RELATION_MODEL)["model"],
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


class MedicationRelationExtractor(TrainablePipe):
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
        register_medications_extension()
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.cfg = {
            "labels": [],
            "spans_key": spans_key,
            "max_distance": max_distance,
            "max_candidates_per_entity": max_candidates_per_entity,
            "threshold": threshold,
            "learn_rate_scale": learn_rate_scale,
        }

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> Tuple[str, ...]:
        return self.labels

    def add_label(self, label: str) -> int:
        if not isinstance(label, str):
            raise ValueError(Errors.E187)
        if not label.endswith("-Drug") or label == "Drug-Drug":
            raise ValueError(f"{self.name}: relation type {label!r} is not '<Attribute>-Drug'")
        if label in self.labels:
            return 0
        if self.model.get_ref("output_layer").has_param("W"):
            raise ValueError(f"{self.name}: cannot add label {label!r} after initialization")
        self.cfg["labels"].append(label)
        self.vocab.strings.add(label)
        return 1

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

    def predicted_entities(self, doc: Doc) -> List[Span]:
        """The predicted entities of ``doc``: ``doc.spans[spans_key]`` in document order, or ``doc.ents``."""
        key = self.cfg.get("spans_key")
        if key is None:
            return list(doc.ents)
        return sorted(doc.spans.get(key, []), key=lambda span: (span.start, span.end, span.label_))

    def predict(self, docs: Iterable[Doc]) -> List[DocPredictions]:
        """Candidates from each doc's predicted entities and their type probabilities."""
        docs = list(docs)
        candidates = [self.candidates(self.predicted_entities(doc)) for doc in docs]
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

    def finish_update(self, sgd: Optimizer) -> None:
        """Update the head's own parameters at the learning rate times ``learn_rate_scale``."""
        self.model.finish_update(ScaledLearnRate(sgd, self.cfg.get("learn_rate_scale", 1.0)))

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd=None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """One gradient step on the summed cross-entropy of the gold-entity candidates.

        The model always runs, even on a batch without candidates, so that a shared
        transformer whose last listener this is still receives its backward pass.
        """
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "MedicationRelationExtractor.update")
        set_dropout_rate(self.model, drop)
        candidates = [self._gold_candidates(eg) for eg in examples]
        logits, backprop = self.model.begin_update(
            ([eg.predicted for eg in examples], [c.token_rows() for c in candidates])
        )
        loss, d_logits = self.get_loss(examples, logits, candidates)
        backprop(d_logits)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

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
