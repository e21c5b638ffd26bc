"""``clinical_ie.RelationClassifier.v1``: pair features of candidate (attribute, Drug) spans
from token vectors, then a hidden layer to logits over ``none`` + the relation types."""

from typing import List, Optional, Tuple

import numpy
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Model, Relu, chain
from thinc.types import Floats2d, Ints1d, Ints2d

DISTANCE_BUCKETS = (0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
"""Lower bounds of the token-gap buckets; each bucket exists twice (attribute before or
after the Drug)."""

DEFAULT_RELATION_MODEL = """
[model]
@architectures = "clinical_ie.RelationClassifier.v1"
hidden_width = 128
distance_width = 16
"""

RelationInput = Tuple[List[Doc], List[Ints2d]]
"""Docs and, per doc, candidate rows ``[attr_start, attr_end, drug_start, drug_end]`` (tokens)."""


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
