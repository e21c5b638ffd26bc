"""The numpy token-to-wordpiece alignment gives exactly spacy-transformers' alignment."""

import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy_transformers.align import get_alignment_via_offset_mapping
from spacy_transformers.layers.transformer_model import huggingface_tokenize
from spacy_transformers.span_getters import configure_strided_spans
from transformers import AutoTokenizer

from clinical_ie.corpora.brat import read_brat_folder
from clinical_ie.corpora.conversion_report import ConversionReport
from clinical_ie.pipeline.alignment import align_by_offsets, char_to_token
from tests.util import SAMPLE_NOTES


@pytest.fixture(scope="module")
def wordpiece_tokenizer(tiny_bert):
    return AutoTokenizer.from_pretrained(str(tiny_bert), use_fast=True)


def awkward_docs(vocab):
    """Docs whose tokens meet without whitespace, carry whitespace tokens and line breaks, or
    hold characters the wordpiece vocabulary lacks."""
    return [
        Doc(vocab, words=["Metformin", "500", "mg", "q.d.", ";", "7", "B", "X", "-", "ray"],
            spaces=[True, False, True, False, True, False, True, False, False, False]),
        Doc(vocab, words=["Plan", ":", "\n\n", "1", ".", "  ", "aspirin", "\u00b5g", "\u2192", "stop"],
            spaces=[False, False, False, False, True, False, True, True, True, False]),
        Doc(vocab, words=["x"], spaces=[False]),
    ]


@pytest.mark.parametrize("window,stride", [(256, 256), (128, 96), (16, 5), (3, 2)])
def test_same_alignment_as_spacy_transformers(wordpiece_tokenizer, window, stride):
    nlp = spacy.blank("en")
    docs = [nlp(doc.text) for doc in list(read_brat_folder(SAMPLE_NOTES, ConversionReport("brat")))[:4]]
    docs += awkward_docs(nlp.vocab)
    windows = [span for doc_windows in configure_strided_spans(window, stride)(docs) for span in doc_windows]
    offsets = huggingface_tokenize(wordpiece_tokenizer, [span.text for span in windows])["offset_mapping"]
    expected = get_alignment_via_offset_mapping(windows, offsets)
    aligned = align_by_offsets(windows, offsets)
    assert aligned.lengths.dtype == expected.lengths.dtype and aligned.dataXd.dtype == expected.dataXd.dtype
    numpy.testing.assert_array_equal(aligned.lengths, expected.lengths)
    numpy.testing.assert_array_equal(aligned.dataXd, expected.dataXd)


def test_a_wordpiece_over_two_tokens_aligns_to_both():
    doc = Doc(spacy.blank("en").vocab, words=["7", "B", "daily"], spaces=[False, True, False])
    offsets = numpy.array([[[0, 0], [0, 2], [3, 8], [0, 0]]])  # [CLS] "7B" "daily" [SEP]
    aligned = align_by_offsets([doc[:]], offsets)
    assert aligned.lengths.tolist() == [1, 1, 1]
    assert aligned.dataXd.tolist() == [1, 1, 2]


def test_each_character_belongs_to_its_token_or_the_one_before():
    doc = Doc(spacy.blank("en").vocab, words=["a", "bc", "\n", "d"], spaces=[True, False, False, False])
    assert char_to_token(doc).tolist() == [0, 0, 1, 1, 2, 3, 3]


def test_batches_of_different_sizes_are_refused():
    doc = Doc(spacy.blank("en").vocab, words=["a"])
    with pytest.raises(ValueError, match="different sizes"):
        align_by_offsets([doc[:], doc[:]], numpy.zeros((1, 3, 2), dtype="int64"))
