"""``clinical_crf_ner``: a BIO tagger head with a linear-chain CRF, for a shared encoder.

Token vectors (from any tok2vec layer, typically a listener of the shared transformer) go
through an optional hidden layer and a linear layer to emission scores over the BIO tags;
a CRF with learned transition, start and end scores (model params ``transitions``, ``start``,
``end``) is trained with the exact negative log-likelihood and decoded with Viterbi. Hard BIO
constraints hold in training and decoding; ``allowed_labels`` and ``max_span_length`` are
enforced by the decoder. The CRF reads only a document's content tokens, every token but
whitespace (:func:`content_tokens`: spaces of any kind, tabs, line breaks), and its spans are
mapped back to the document, so no span starts or ends on whitespace, whitespace between two
content tokens of a span stays inside it, and a span's confidence is the exact posterior of the
span written. Each predicted span gets ``span._.confidence``: its exact posterior
probability (see :func:`clinical_ie.pipeline.crf_ner.crf.decode_spans`) under the CRF whose scores are
divided by the head's calibration temperature ``cfg["temperature"]``, mapped by its span
calibration ``cfg["span_calibration"]`` where it has one (:mod:`.span_calibration`; 1.0 and
none until :mod:`clinical_ie.training.calibration` fits them on held-out documents after
training; the decoded spans depend on neither). Spans whose confidence is below ``confidence_threshold`` (default 0: keep all)
are not written.

Pipeline config (listening to a ``transformer`` component)::

    [components.ner]
    factory = "clinical_crf_ner"
    spans_key = null
    set_ents = false
    task = null
    allowed_labels = null
    max_span_length = {}
    learn_rate_scale = 10.0
    confidence_threshold = 0.0

    [components.ner.model]
    @architectures = "clinical_ie.CRFTagger.v1"
    hidden_width = 0
    nO = null

    [components.ner.model.tok2vec]
    @architectures = "spacy-transformers.TransformerListener.v1"
    grad_factor = 1.0
    upstream = "transformer"

    [components.ner.model.tok2vec.pooling]
    @layers = "reduce_mean.v1"

    [components.ner.scorer]
    @scorers = "clinical_ie.crf_scorer.v1"

``max_span_length`` maps labels to a maximum length in tokens, inline (``{"Drug": 8}``) or as
a ``[components.ner.max_span_length]`` section; ``allowed_labels`` is a list of labels or null.
Labels: inferred from the training data (sorted), or ``[initialize.components.ner] labels``
(e.g. ``spacy.read_labels.v1`` on the output of ``spacy init labels``).
With ``spans_key = "sc"`` the head writes ``doc.spans["sc"]`` (and ``doc.ents`` too with
``set_ents = true``: the primary head of a multi-task pipeline) and its scores are ``spans_sc_p/r/f/per_type``: set
``[training.score_weights] spans_sc_f = 1.0`` and ``ents_f = null`` (the factory's default
weights name ``ents_*``). With ``task = "handover"`` the head learns only from documents whose
``doc._.corpus`` is ``handover`` (or unset), so several heads can train on a mixed corpus.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy
import torch
from spacy.attrs import IS_SPACE
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_get_examples
from thinc.api import Model
from thinc.types import Floats2d
from thinc.util import torch2xp, xp2torch

from ..base import LabelledHead, default_model_config
from ..data_model import annotated_for, head_spans
from . import crf
from .model import CRF_PARAMS, DEFAULT_CRF_MODEL
from .scorer import score_crf_spans
from .span_calibration import apply_span_calibration


@contextmanager
def cpu_single_thread(device: torch.device):
    """Run torch on one CPU thread inside the block (nothing changes on other devices).

    The CRF's per-step tensors are tiny; intra-op threads only add synchronisation, which on a
    busy CPU made decoding 10-50x slower. The thread count is process-wide and restored after.
    """
    if device.type != "cpu":
        yield
        return
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n_threads)


@Language.factory(
    "clinical_crf_ner",
    assigns=["doc.ents", "span._.confidence"],
    default_config={
        "model": default_model_config(DEFAULT_CRF_MODEL),
        "spans_key": None,
        "set_ents": False,
        "task": None,
        "allowed_labels": None,
        "max_span_length": {},
        "learn_rate_scale": 10.0,
        "confidence_threshold": 0.0,
        "scorer": {"@scorers": "clinical_ie.crf_scorer.v1"},
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_crf_ner(
    nlp: Language,
    name: str,
    model: Model[List[Doc], List[Floats2d]],
    spans_key: Optional[str],
    set_ents: bool,
    task: Optional[str],
    allowed_labels: Optional[List[str]],
    max_span_length: Dict[str, int],
    learn_rate_scale: float,
    confidence_threshold: float,
    scorer: Optional[Callable],
) -> "CRFEntityRecognizer":
    """A CRF NER head; see the module docstring for its config."""
    return CRFEntityRecognizer(
        nlp.vocab,
        model,
        name,
        spans_key=spans_key,
        set_ents=set_ents,
        task=task,
        allowed_labels=allowed_labels,
        max_span_length=max_span_length,
        learn_rate_scale=learn_rate_scale,
        confidence_threshold=confidence_threshold,
        scorer=scorer,
    )


def set_confidence_threshold(nlp: Language, threshold: float) -> None:
    """Set ``confidence_threshold`` on every CRF head of ``nlp``: less confident spans are not written."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"confidence_threshold must be in [0, 1], got {threshold}")
    for _, pipe in nlp.pipeline:
        if isinstance(pipe, CRFEntityRecognizer):
            pipe.confidence_threshold = threshold


def content_tokens(doc: Doc) -> numpy.ndarray:
    """Indices of the tokens of ``doc`` that a span may start or end on: all but whitespace
    tokens (``token.is_space``: U+00A0, U+2005, U+2009, U+200A, tabs, line breaks...)."""
    if not len(doc):
        return numpy.zeros(0, dtype="int64")
    return numpy.flatnonzero(doc.to_array(IS_SPACE) == 0)


@dataclass
class ContentScores:
    """A document's emission scores at its content tokens, (n, K), and those tokens' indices, (n,)."""

    emissions: Floats2d
    tokens: numpy.ndarray


def resolve_overlaps(spans: Iterable[Span]) -> List[Span]:
    """A non-overlapping subset, chosen greedily: longer spans first, then earlier start,
    then label name; returned in document order."""
    taken = set()
    chosen = []
    for span in sorted(spans, key=lambda s: (s.start - s.end, s.start, s.label_)):
        tokens = range(span.start, span.end)
        if not taken.intersection(tokens):
            taken.update(tokens)
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


class CRFEntityRecognizer(LabelledHead):
    """Predicts non-overlapping labelled spans with a CRF over BIO tags.

    cfg: ``labels`` (tag order: ``O``, then ``B``/``I`` per label in this order), ``spans_key``
    (None: write ``doc.ents``; else write ``doc.spans[spans_key]``, and ``doc.ents`` too when
    ``set_ents``), ``task`` (None: every example annotates this head; else only examples
    whose ``reference._.corpus`` is unset or equal), ``allowed_labels`` (None: all),
    ``max_span_length`` (label -> tokens), ``learn_rate_scale``, ``temperature`` (the
    calibration temperature of the CRF's posteriors), ``span_calibration`` (None, or a map of
    those posteriors to confidences: :mod:`.span_calibration`), both fitted and stored after
    training, and ``calibration`` (what the fit measured, or None).
    ``confidence_threshold`` is an option of the loaded pipeline, not saved state: spans less
    confident are not written (set it in the config, or on the component after loading).
    Gold: :func:`head_spans` of the reference, made non-overlapping by
    :func:`resolve_overlaps`; spans that do not align with the predicted tokens, or whose
    label is not in ``labels``, count as ``O``. Examples of other tasks give no gradient.
    """

    def __init__(
        self,
        vocab,
        model: Model,
        name: str = "clinical_crf_ner",
        *,
        spans_key: Optional[str] = None,
        set_ents: bool = False,
        task: Optional[str] = None,
        allowed_labels: Optional[Sequence[str]] = None,
        max_span_length: Optional[Dict[str, int]] = None,
        learn_rate_scale: float = 1.0,
        confidence_threshold: float = 0.0,
        scorer: Optional[Callable] = score_crf_spans,
    ) -> None:
        super().__init__(
            vocab,
            model,
            name,
            scorer=scorer,
            spans_key=spans_key,
            set_ents=set_ents,
            task=task,
            allowed_labels=None if allowed_labels is None else list(allowed_labels),
            max_span_length=dict(max_span_length or {}),
            learn_rate_scale=learn_rate_scale,
            temperature=1.0,
            span_calibration=None,
            calibration=None,
        )
        self.confidence_threshold = confidence_threshold
        self._lattices: Dict[Tuple, crf.TagLattice] = {}

    def is_initialized(self) -> bool:
        return self.model.has_param("transitions")

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[Sequence[str]] = None,
    ) -> None:
        """Add ``labels`` (default: every gold label in the examples, sorted) and initialize the model."""
        validate_get_examples(get_examples, "CRFEntityRecognizer.initialize")
        if labels is None:
            labels = sorted(
                {span.label_ for eg in get_examples() if annotated_for(eg, self.cfg["task"])
                 for span in head_spans(eg.reference, self.cfg["spans_key"])}
            )
        for label in labels:
            self.add_label(label)
        self._require_labels()
        self._lattice(decoding=True, device=torch.device("cpu"))  # validates the span constraints
        doc_sample = [eg.predicted for eg in islice(get_examples(), 10)]
        self.model.set_dim("nO", crf.n_tags(len(self.labels)))
        self.model.initialize(X=doc_sample)

    def predict(self, docs: Iterable[Doc]) -> List[Optional[crf.DecodedSpans]]:
        """Viterbi spans per doc (None for a doc without content tokens), with the calibrated
        confidences: posteriors at the fitted temperature, mapped by the fitted span calibration."""
        scores = self.content_scores(list(docs))
        keep = [i for i, found in enumerate(scores) if found is not None]
        decoded: List[Optional[crf.DecodedSpans]] = [None] * len(scores)
        calibration = self.cfg.get("span_calibration")
        for i, spans in zip(keep, self.decode([scores[i] for i in keep], self.cfg.get("temperature", 1.0))):
            spans.probabilities = apply_span_calibration(spans.probabilities, calibration)
            decoded[i] = spans
        return decoded

    def content_scores(self, docs: List[Doc]) -> List[Optional[ContentScores]]:
        """Emission scores of each doc's content tokens (None for a doc without any)."""
        tokens = [content_tokens(doc) for doc in docs]
        keep = [i for i, found in enumerate(tokens) if len(found)]
        emissions = self.model.predict([docs[i] for i in keep]) if keep else []
        scores: List[Optional[ContentScores]] = [None] * len(docs)
        for i, emission in zip(keep, emissions):
            scores[i] = ContentScores(self._at_tokens(emission, tokens[i]), tokens[i])
        return scores

    def decode(self, scores: List[ContentScores], temperature: float) -> List[crf.DecodedSpans]:
        """Viterbi spans (token offsets in the documents) of content scores, with their
        probabilities under the CRF whose scores are divided by ``temperature``."""
        if not scores:
            return []
        padded, lengths = self._padded([found.emissions for found in scores])
        with torch.no_grad(), cpu_single_thread(padded.device):
            params = [xp2torch(self.model.get_param(name)) for name in CRF_PARAMS]
            lattice = self._lattice(decoding=True, device=padded.device)
            decoded = crf.decode_spans(padded, lengths, *params, lattice, temperature=temperature)
        return [spans.on_tokens(found.tokens) for spans, found in zip(decoded, scores)]

    def set_annotations(self, docs: Iterable[Doc], decoded: List[Optional[crf.DecodedSpans]]) -> None:
        """Write the spans at least ``confidence_threshold`` confident, with their confidences, to
        ``doc.spans[spans_key]`` and/or ``doc.ents`` (replacing it)."""
        labels = self.labels
        key = self.cfg["spans_key"]
        for doc, found in zip(docs, decoded):
            spans = []
            if found is not None:
                for start, end, label, probability in zip(
                    found.starts.tolist(), found.ends.tolist(), found.labels.tolist(), found.probabilities.tolist()
                ):
                    if probability < self.confidence_threshold:
                        continue
                    span = Span(doc, start, end, label=labels[label])
                    span._.confidence = probability
                    spans.append(span)
            if key is not None:
                doc.spans[key] = spans
            if key is None or self.cfg["set_ents"]:
                doc.ents = spans

    def learn(self, examples: List[Example]) -> Optional[float]:
        """Summed NLL of the examples; its gradients reach the CRF scores and the encoder."""
        self._require_labels()
        if not any(len(eg.predicted) for eg in examples):
            return None
        emissions, backprop_emissions = self.model.begin_update([eg.predicted for eg in examples])
        loss, d_emissions, d_params = self._loss_and_gradients(examples, emissions)
        for name, gradient in d_params.items():
            self.model.inc_grad(name, gradient)
        backprop_emissions(d_emissions)
        return loss

    def get_loss(self, examples: Iterable[Example], emissions: List[Floats2d]) -> Tuple[float, List[Floats2d]]:
        """Summed NLL and its gradient with respect to the emissions."""
        loss, d_emissions, _ = self._loss_and_gradients(list(examples), emissions)
        return loss, d_emissions

    def _loss_and_gradients(
        self, examples: List[Example], emissions: List[Floats2d]
    ) -> Tuple[float, List[Floats2d], Dict[str, Floats2d]]:
        ops = self.model.ops
        task = self.cfg["task"]
        tokens = [content_tokens(eg.predicted) for eg in examples]
        keep = [i for i, eg in enumerate(examples) if len(tokens[i]) and annotated_for(eg, task)]
        d_emissions = [ops.alloc2f(*emission.shape) for emission in emissions]
        if not keep:  # zero gradients still reach the listener, which the encoder waits for
            zeros = {name: ops.alloc(self.model.get_param(name).shape) for name in CRF_PARAMS}
            return 0.0, d_emissions, zeros
        padded, lengths = self._padded([self._at_tokens(emissions[i], tokens[i]) for i in keep])
        padded.requires_grad_()
        params = {name: xp2torch(self.model.get_param(name), requires_grad=True) for name in CRF_PARAMS}
        gold_tags = ops.pad([ops.asarray2i(self._gold_tags(examples[i], tokens[i])[:, None]) for i in keep])[:, :, 0]
        gold_tags = xp2torch(gold_tags).to(device=padded.device, dtype=torch.long)
        lattice = self._lattice(decoding=False, device=padded.device)
        with cpu_single_thread(padded.device):
            loss = crf.negative_log_likelihood(
                padded, lengths, gold_tags, params["transitions"], params["start"], params["end"], lattice
            ).sum()
            loss.backward()
        d_kept = ops.unpad(torch2xp(padded.grad, ops=ops), lengths.tolist())
        for i, gradient in zip(keep, d_kept):
            d_emissions[i][ops.xp.asarray(tokens[i])] = gradient  # whitespace tokens get none
        return loss.item(), d_emissions, {name: torch2xp(p.grad, ops=ops) for name, p in params.items()}

    def _at_tokens(self, emissions: Floats2d, tokens: numpy.ndarray) -> Floats2d:
        """The rows of ``emissions`` at ``tokens`` (all of them without a copy when nothing is left out)."""
        return emissions if len(tokens) == len(emissions) else emissions[self.model.ops.xp.asarray(tokens)]

    def _padded(self, emissions: List[Floats2d]) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, T, K) torch emissions and (B,) lengths on the emissions' device."""
        padded = xp2torch(self.model.ops.pad(emissions))
        lengths = torch.tensor([len(e) for e in emissions], device=padded.device)
        return padded, lengths

    def _gold_tags(self, example: Example, tokens: numpy.ndarray) -> numpy.ndarray:
        """Gold BIO tags (len(tokens),) of an example at the predicted doc's content ``tokens``;
        a gold span is cut to the content tokens it holds (none: it counts as ``O``)."""
        label_index = {label: i for i, label in enumerate(self.labels)}
        gold = resolve_overlaps(head_spans(example.reference, self.cfg["spans_key"]))
        aligned = [s for s in example.get_aligned_spans_y2x(gold, allow_overlap=False) if s.label_ in label_index]
        bounds = numpy.searchsorted(tokens, [[s.start, s.end] for s in aligned]).reshape(-1, 2)
        spans = [(start, end, label_index[s.label_]) for (start, end), s in zip(bounds.tolist(), aligned) if end > start]
        return crf.tag_indices(len(tokens), spans)

    def _lattice(self, *, decoding: bool, device: torch.device) -> crf.TagLattice:
        """The training lattice (one state per tag) or the decoding lattice (span constraints)."""
        allowed = self.cfg["allowed_labels"] if decoding else None
        max_length = self.cfg["max_span_length"] if decoding else {}
        cache_key = (self.labels, None if allowed is None else tuple(allowed), tuple(sorted(max_length.items())), str(device))
        if cache_key not in self._lattices:
            label_index = {label: i for i, label in enumerate(self.labels)}
            unknown = set(allowed or ()).union(max_length).difference(label_index)
            if unknown:
                raise ValueError(f"{self.name}: span constraints name unknown labels {sorted(unknown)}")
            lattice = crf.build_lattice(
                len(self.labels),
                allowed_labels=None if allowed is None else [label_index[label] for label in allowed],
                max_span_length={label_index[label]: n for label, n in max_length.items()},
            )
            self._lattices[cache_key] = lattice.to(device)
        return self._lattices[cache_key]
