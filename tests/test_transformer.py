"""clinical_ie.TransformerModel.v1: a pipeline built on it pickles (spaCy's n_process under spawn needs that)."""

import pickle

import numpy
from spacy.util import load_model_from_config
from thinc.api import Config

import clinical_ie  # noqa: F401  (registers the architectures)

CONFIG = """
[nlp]
lang = "en"
pipeline = ["transformer"]

[components]

[components.transformer]
factory = "transformer"

[components.transformer.model]
@architectures = "clinical_ie.TransformerModel.v1"
name = "{tiny_bert}"

[components.transformer.model.get_spans]
@span_getters = "spacy-transformers.strided_spans.v1"
window = 64
stride = 48

[components.transformer.model.tokenizer_config]
use_fast = true
"""


def test_pipeline_pickles_and_gives_the_same_output(tiny_bert):
    nlp = load_model_from_config(Config().from_str(CONFIG.format(tiny_bert=tiny_bert)), auto_fill=True)
    nlp.initialize()
    text = "Aspirin 81 mg PO daily for chest pain."
    copy = pickle.loads(pickle.dumps(nlp))
    expected = nlp(text)._.trf_data.tensors[0]
    numpy.testing.assert_allclose(copy(text)._.trf_data.tensors[0], expected, rtol=1e-6)
    assert copy.get_pipe("transformer").model.attrs["name"] == str(tiny_bert)
