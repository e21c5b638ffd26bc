"""No CRF span starts or ends on a whitespace token, and confidences stay exact posteriors."""

import numpy
import pytest
from spacy.tokens import Span
from spacy.training import Example
from spacy.util import load_model_from_config
from thinc.api import Model

from clinical_ie.pipeline.crf_ner import content_tokens, crf
from clinical_ie.pipeline.crf_ner.model import CRF_PARAMS
from clinical_ie.pipeline.tokenizer import create_clinical_tokenizer
from tests.util import crf_pipeline_config

SPACES = ["\u00a0", "\u2005", "\u2009", "\u200a", "\t", "\n", "\n\n"]
"""No-break, four-per-em, thin and hair spaces, a tab and line breaks: each a whitespace token."""

TAGS = {"O": 0, "B": crf.begin_tag(0), "I": crf.inside_tag(0)}


def strength_head(space: str):
    """A one-label (Strength) CRF head and a doc ``take 1500<space>mg<space>daily`` in the clinical
    tokenizer, whose tokens 2 and 4 are whitespace."""
    config = crf_pipeline_config(width=32, depth=1, embed_size=500, maxout_pieces=2)
    nlp = load_model_from_config(config, auto_fill=True)
    nlp.tokenizer = create_clinical_tokenizer()(nlp)
    doc = nlp.make_doc(f"take 1500{space}mg{space}daily")
    assert [token.is_space for token in doc] == [False, False, True, False, True, False]
    reference = nlp.make_doc(doc.text)
    reference.ents = [Span(reference, 1, 4, "Strength")]
    nlp.initialize(lambda: [Example(nlp.make_doc(doc.text), reference)])
    head = nlp.get_pipe("ner")
    for name in CRF_PARAMS:
        head.model.get_param(name)[...] = 0.0
    return nlp, head, doc


def score_with(monkeypatch, emissions: numpy.ndarray) -> None:
    """Make the head's model score every doc with ``emissions`` (thinc models are slotted: the
    class method is patched, and only the head calls ``predict`` here)."""
    monkeypatch.setattr(Model, "predict", lambda self, docs: [emissions for _ in docs])


def emissions_for(tags_preferred, strength: float = 4.0) -> numpy.ndarray:
    """Emission scores (n, 3) that favour the tag named at each token ("O", "B" or "I")."""
    emissions = numpy.zeros((len(tags_preferred), len(TAGS)), dtype="float32")
    for row, name in enumerate(tags_preferred):
        emissions[row, TAGS[name]] = strength
    return emissions


@pytest.mark.parametrize("space", SPACES, ids=[f"U+{ord(s[0]):04X}x{len(s)}" for s in SPACES])
def test_spans_never_start_or_end_on_whitespace(space, monkeypatch):
    """The emissions favour a span from the first whitespace token to the second; the decoder
    reads only content tokens, so the span written runs from ``1500`` to ``mg`` and keeps the
    whitespace between them."""
    nlp, head, doc = strength_head(space)
    emissions = emissions_for(["O", "O", "B", "I", "I", "O"])
    emissions[1, TAGS["B"]] = 2.0  # the best content-token start
    score_with(monkeypatch, emissions)
    annotated = head(doc)
    assert [(span.start, span.end, span.label_) for span in annotated.ents] == [(1, 4, "Strength")]
    assert annotated.ents[0].text == f"1500{space}mg"
    for span in annotated.ents:
        assert not span[0].is_space and not span[-1].is_space


@pytest.mark.parametrize("space", SPACES, ids=[f"U+{ord(s[0]):04X}x{len(s)}" for s in SPACES])
def test_confidence_is_the_exact_posterior_over_content_tokens(space, monkeypatch):
    """Brute force over every valid tag sequence of the 4 content tokens: the span's confidence is
    the probability mass of the sequences that hold exactly that span."""
    nlp, head, doc = strength_head(space)
    rng = numpy.random.default_rng(0)
    emissions = rng.normal(size=(len(doc), len(TAGS))).astype("float32")
    emissions[:, TAGS["B"]] += 1.0
    score_with(monkeypatch, emissions)
    annotated = head(doc)
    content = content_tokens(doc)
    assert content.tolist() == [0, 1, 3, 5]
    scores = emissions[content]
    weights = {}
    for tags in numpy.ndindex(*(len(TAGS),) * len(content)):
        tags = numpy.asarray(tags)
        if tags[0] == TAGS["I"] or any(b == TAGS["I"] and a == TAGS["O"] for a, b in zip(tags, tags[1:])):
            continue
        weights[tuple(tags)] = numpy.exp(float(scores[numpy.arange(len(tags)), tags].sum()))
    z = sum(weights.values())
    assert len(annotated.ents)
    for span in annotated.ents:
        start, end = numpy.searchsorted(content, [span.start, span.end])
        mass = sum(
            weight for tags, weight in weights.items()
            if tags[start] == TAGS["B"] and all(t == TAGS["I"] for t in tags[start + 1:end])
            and (end == len(tags) or tags[end] != TAGS["I"])
        )
        assert span._.confidence == pytest.approx(mass / z, rel=1e-5)
        assert not span[0].is_space and not span[-1].is_space


def test_random_scores_never_put_an_edge_on_whitespace(monkeypatch):
    """Whatever the emission scores, over docs with every kind of whitespace token."""
    nlp, head, _ = strength_head("\u2009")
    text = "x " + " ".join(f"{i}{space}mg{space}" for i, space in enumerate(SPACES * 3)) + " end"
    doc = nlp.make_doc(text)
    assert sum(token.is_space for token in doc) >= 2 * len(SPACES) * 3
    rng = numpy.random.default_rng(1)
    for _ in range(20):
        emissions = (rng.normal(size=(len(doc), len(TAGS))) * 3).astype("float32")
        score_with(monkeypatch, emissions)
        spans = head(nlp.make_doc(text)).ents
        assert spans
        assert not any(span[0].is_space or span[-1].is_space for span in spans)


def test_training_reads_content_tokens_only():
    """A gold span with whitespace inside trains with a finite loss and no gradient reaches the
    emission scores of whitespace tokens; a gold span of whitespace only counts as O."""
    nlp, head, doc = strength_head("\u2009")
    reference = nlp.make_doc(doc.text)
    reference.spans["x"] = []
    reference.ents = [Span(reference, 1, 4, "Strength"), Span(reference, 4, 5, "Strength")]
    example = Example(nlp.make_doc(doc.text), reference)
    tokens = content_tokens(example.predicted)
    assert head._gold_tags(example, tokens).tolist() == [0, TAGS["B"], TAGS["I"], 0]
    emissions = [head.model.ops.asarray2f(numpy.ones((len(doc), len(TAGS)), dtype="float32"))]
    loss, d_emissions = head.get_loss([example], emissions)
    assert numpy.isfinite(loss) and loss > 0
    assert not d_emissions[0][[2, 4]].any() and d_emissions[0][[0, 1, 3, 5]].any()


def test_doc_of_whitespace_only_gets_no_span():
    nlp, head, _ = strength_head("\u2009")
    doc = head(nlp.make_doc("\n\n\u2009\t"))
    assert all(token.is_space for token in doc) and list(doc.ents) == []
