"""``clinical_ie.CRFTagger.v1``: token vectors to BIO emission scores, with the CRF's
transition, start and end scores as params of the same model."""

from typing import List, Optional

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Model, Relu, chain, with_array
from thinc.types import Floats2d

CRF_PARAMS = ("transitions", "start", "end")

DEFAULT_CRF_MODEL = """
[model]
@architectures = "clinical_ie.CRFTagger.v1"
hidden_width = 0
"""


@registry.architectures("clinical_ie.CRFTagger.v1")
def build_crf_tagger(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 0,
    nO: Optional[int] = None,
) -> Model[List[Doc], List[Floats2d]]:
    """Emission scores (n_tokens, nO) per doc, and the CRF's scores as params.

    tok2vec: token vectors, e.g. ``spacy-transformers.TransformerListener.v1``.
    hidden_width: width of a ReLU layer before the output layer; 0 for none.
    nO: number of BIO tags (``2 * n_labels + 1``); set by the component at initialization.
    Params: ``transitions`` (nO, nO) [from tag, to tag], ``start`` (nO,), ``end`` (nO,).
    """
    output_layer = Linear(nO=nO)
    head = chain(Relu(nO=hidden_width), output_layer) if hidden_width else output_layer
    return Model(
        "crf_tagger",
        _crf_tagger_forward,
        init=_crf_tagger_init,
        layers=[chain(tok2vec, with_array(head))],
        refs={"tok2vec": tok2vec, "output_layer": output_layer},
        params={name: None for name in CRF_PARAMS},
        dims={"nO": nO},
    )


def _crf_tagger_forward(model: Model, docs: List[Doc], is_train: bool):
    return model.layers[0](docs, is_train)


def _crf_tagger_init(model: Model, X: Optional[List[Doc]] = None, Y=None) -> None:
    n_tags = model.get_dim("nO")
    model.get_ref("output_layer").set_dim("nO", n_tags)
    model.layers[0].initialize(X=X)
    model.set_param("transitions", model.ops.alloc2f(n_tags, n_tags))
    model.set_param("start", model.ops.alloc1f(n_tags))
    model.set_param("end", model.ops.alloc1f(n_tags))
