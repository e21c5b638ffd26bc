"""clinical_ie.TransformerModel.v1: a pipeline built on it pickles (spaCy's n_process under spawn needs that)."""

import pickle

import numpy
from spacy.util import load_model_from_config

import clinical_ie.pipeline.transformer  # noqa: F401  (registers the architecture)
from tests.util import transformer_pipeline_config


def test_pipeline_pickles_and_gives_the_same_output(tiny_bert):
    config = transformer_pipeline_config(
        tiny_bert, {}, architecture="clinical_ie.TransformerModel.v1", max_batch_items=None
    )
    nlp = load_model_from_config(config, auto_fill=True)
    nlp.initialize()
    text = "Aspirin 81 mg PO daily for chest pain."
    copy = pickle.loads(pickle.dumps(nlp))
    expected = nlp(text)._.trf_data.tensors[0]
    numpy.testing.assert_allclose(copy(text)._.trf_data.tensors[0], expected, rtol=1e-6)
    assert copy.get_pipe("transformer").model.attrs["name"] == str(tiny_bert)
