"""Evaluate a trained pipeline on gold DocBins: predict, score, write every output.

``evaluate`` loads the pipeline, runs it over the gold documents' tokens and writes
``<output_dir>/<dataset>.json`` (numbers only, no note text), ``<dataset>.md`` with PNG
plots beside it, the error pages ``<dataset>-errors/`` (note text, or token shapes), and
optionally the predictions as brat standoff for the official n2c2 scorer.
``score_documents`` is the part that needs no model and no files.
"""

import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import spacy
from spacy.language import Language
from spacy.scorer import get_ner_prf
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.vocab import Vocab

from ..corpora.brat import write_brat_document
from ..corpora.catalog import check_dataset_name, scheme_of
from ..pipeline.data_model import entity_spans, group_spans
from ..pipeline.labels import HANDOVER_TRAINING_CATEGORIES
from .error_pages import write_error_pages
from .metrics.assertion import score_assertions
from .metrics.calibration import calibration_report, span_correctness
from .metrics import (
    EntitySpan,
    RelationTuple,
    bio_classification_report,
    bio_tags,
    doc_relations,
    gold_entity_spans,
    gold_token_categories,
    overlap_confusion,
    predicted_entity_spans,
    predicted_token_categories,
    score_handover,
    score_relations,
    score_spans,
    training_categories,
)
from .report import write_report

def read_docs(path: Union[str, Path], vocab: Vocab) -> List[Doc]:
    """The documents of a DocBin written with ``store_user_data=True``."""
    return list(DocBin(store_user_data=True).from_disk(path).get_docs(vocab))


def model_source(model: Union[str, Path]) -> str:
    """A model named without local directories: a folder's last two path parts (e.g.
    ``multitask/model-best``), or the package or Hub name as given."""
    path = Path(model)
    return "/".join(path.resolve().parts[-2:]) if path.is_dir() else str(model)


def transformer_name(name: Optional[str]) -> Optional[str]:
    """A configured transformer without local directories: a Hub id or package name as
    configured, a folder (one that exists, or an absolute or home path) as its last part."""
    if name is None:
        return None
    path = Path(name).expanduser()
    return path.name if path.is_absolute() or name.startswith((".", "~")) or path.is_dir() else name


def model_description(model: Union[str, Path], nlp: Language) -> Dict[str, object]:
    """What was scored: ``source`` (see ``model_source``), ``name`` and ``version`` from its meta,
    ``pipeline`` and the base ``transformer`` (:func:`transformer_name`)."""
    source = model_source(model)
    transformer = None
    if "transformer" in nlp.pipe_names:
        transformer = transformer_name(nlp.config["components"]["transformer"]["model"].get("name"))
    return {
        "source": source,
        "name": f"{nlp.lang}_{nlp.meta.get('name')}",
        "version": nlp.meta.get("version"),
        "pipeline": list(nlp.pipe_names),
        "transformer": transformer,
    }


def predict_docs(nlp: Language, gold_docs: Sequence[Doc], batch_size: int = 8) -> List[Doc]:
    """Run ``nlp`` on fresh Docs with the gold tokens (words and spaces) and ``doc_id``.

    Keeping the gold tokenization aligns tokens one to one, as the token-level scores
    require; no gold annotation is copied.
    """
    inputs = []
    for gold in gold_docs:
        doc = Doc(nlp.vocab, words=[t.text for t in gold], spaces=[bool(t.whitespace_) for t in gold])
        doc._.doc_id = gold._.doc_id
        inputs.append(doc)
    return list(nlp.pipe(inputs, batch_size=batch_size))


def score_documents(
    gold_docs: Sequence[Doc],
    predicted_docs: Sequence[Doc],
    handover_categories: Sequence[str] = HANDOVER_TRAINING_CATEGORIES,
    predicted_relations: Optional[Sequence[Sequence[RelationTuple]]] = None,
    predicted_spans_key: Optional[str] = None,
) -> Dict[str, object]:
    """Every score of ``predicted_docs`` against ``gold_docs`` (same order, same tokens).

    Always: ``spans`` (:func:`~clinical_ie.evaluation.metrics.score_spans`, gold = every gold
    entity, predictions = ``doc.ents`` or ``doc.spans[predicted_spans_key]``),
    ``span_confusion``, ``bio_tokens`` and ``spacy`` (what ``spacy evaluate`` reports:
    ``ents_p/r/f`` and ``ents_per_type`` from ``doc.ents``). ``handover`` when the gold
    docs have ``token_categories`` (macro over ``handover_categories``); ``relations``
    when they have relations (predictions: ``predicted_relations`` per document, else
    each predicted doc's ``doc._.relations``). ``calibration``
    (:func:`~clinical_ie.evaluation.metrics.calibration.calibration_report`: ECE, reliability bins, precision
    at confidence thresholds) over the scored predicted spans that carry ``span._.confidence``.
    ``assertion`` (:func:`~clinical_ie.evaluation.metrics.assertion.score_assertions`) when gold
    entities carry ``span._.assertion`` (brat attributes): per value over the strictly matched
    entities, a gold entity without one counting as ``present``.
    """
    if len(gold_docs) != len(predicted_docs):
        raise ValueError(f"{len(gold_docs)} gold documents but {len(predicted_docs)} predicted")
    for gold, predicted in zip(gold_docs, predicted_docs):
        if gold.text != predicted.text:
            raise ValueError(f"Document {gold._.doc_id!r}: predicted text differs from the gold text")
    gold_entities = [gold_entity_spans(doc) for doc in gold_docs]
    predicted_entities = [predicted_entity_spans(doc, predicted_spans_key) for doc in predicted_docs]
    examples = [Example(predicted, gold) for gold, predicted in zip(gold_docs, predicted_docs)]
    scores: Dict[str, object] = {
        "n_documents": len(gold_docs),
        "n_tokens": sum(len(doc) for doc in gold_docs),
        "spans": score_spans(gold_entities, predicted_entities),
        "span_confusion": overlap_confusion(gold_entities, predicted_entities),
        "bio_tokens": bio_classification_report(
            [bio_tags(doc) for doc in gold_docs], [bio_tags(doc, predicted_spans_key) for doc in predicted_docs]
        ),
        "spacy": get_ner_prf(examples),
    }
    confident = [
        [(EntitySpan(s.label_, s.start_char, s.end_char), s._.confidence)
         for s in group_spans(doc, predicted_spans_key) if s._.confidence is not None]
        for doc in predicted_docs
    ]
    if any(confident):
        outcomes = span_correctness(gold_entities, confident)
        scores["calibration"] = calibration_report(outcomes, n_gold=sum(len(g) for g in gold_entities))
    if any(doc._.token_categories is not None for doc in gold_docs):
        scores["handover"] = score_handover(
            [gold_token_categories(doc) for doc in gold_docs],
            [predicted_token_categories(doc, predicted_spans_key) for doc in predicted_docs],
            handover_categories,
        )
    gold_assertions = [
        {EntitySpan(s.label_, s.start_char, s.end_char): s._.assertion for s in entity_spans(doc)} for doc in gold_docs
    ]
    if any(value is not None for doc in gold_assertions for value in doc.values()):
        scores["assertion"] = score_assertions(
            gold_assertions,
            [{EntitySpan(s.label_, s.start_char, s.end_char): s._.assertion for s in group_spans(doc, predicted_spans_key)}
             for doc in predicted_docs],
        )
    if any(doc._.relations for doc in gold_docs):
        if predicted_relations is None:
            predicted_relations = [doc_relations(doc) for doc in predicted_docs]
        scores["relations"] = score_relations([doc_relations(doc) for doc in gold_docs], predicted_relations)
    return scores


def write_brat_predictions(
    predicted_docs: Sequence[Doc], brat_dir: Union[str, Path], predicted_spans_key: Optional[str] = None
) -> None:
    """Write each predicted doc as ``<doc_id>.txt`` + ``.ann`` under ``brat_dir``.

    Entities are the scored ones (``doc.ents`` or ``doc.spans[predicted_spans_key]``) in the order
    they are scored; relations are ``doc._.relations`` between them (by ``span.id_``).
    """
    for doc in predicted_docs:
        write_brat_document(doc, Path(brat_dir), spans=group_spans(doc, predicted_spans_key))


def evaluate(
    model: Union[str, Path],
    gold_path: Union[str, Path],
    dataset: str,
    output_dir: Union[str, Path],
    brat_dir: Optional[Union[str, Path]] = None,
    gpu_id: int = -1,
    train_path: Optional[Union[str, Path]] = None,
    batch_size: int = 8,
    spans_key: Optional[str] = None,
    no_text: bool = False,
    scheme: Optional[str] = None,
) -> Dict[str, object]:
    """Score pipeline ``model`` (a directory or package name) on the DocBin ``gold_path``.

    ``dataset`` is any safe name (:func:`~clinical_ie.corpora.catalog.check_dataset_name`); it
    names the outputs. ``scheme`` (``brat`` or ``handover``) must match the documents:
    ``handover`` ones carry token categories, ``brat`` ones do not. None: the scheme of the gold
    documents' ``doc._.corpus`` (:func:`~clinical_ie.corpora.catalog.scheme_of`), or where that
    is unset or unknown, the one their token categories show.
    Writes ``<output_dir>/<dataset>.json``, ``<dataset>.md`` and its plots, the error pages
    ``<dataset>-errors/index.html`` and ``<doc_id>.html`` (:mod:`.error_pages`; with ``no_text``
    every token shown as its shape), and, with ``brat_dir``, the predictions as brat.
    ``train_path`` (a training DocBin) gives the handover categories of the CLEF macro average; default: the 35 of CLEF 2016 training.
    ``spans_key`` scores the head writing ``doc.spans[spans_key]`` instead of ``doc.ents``
    (one head of a multi-task pipeline). Returns the scores written to the JSON.
    """
    check_dataset_name(dataset)
    if gpu_id >= 0:
        from thinc.api import require_gpu, set_gpu_allocator

        set_gpu_allocator("pytorch")
        require_gpu(gpu_id)
    nlp = spacy.load(model)
    gold_docs = read_docs(gold_path, nlp.vocab)
    corpora = sorted({doc._.corpus for doc in gold_docs if doc._.corpus})
    categorized = any(doc._.token_categories is not None for doc in gold_docs)
    scheme = scheme_of([doc._.corpus for doc in gold_docs], scheme) or ("handover" if categorized else "brat")
    if categorized != (scheme == "handover"):
        raise ValueError(
            f"Scheme {scheme!r} does not fit {Path(gold_path).name}: its documents "
            f"{'carry' if categorized else 'carry no'} handover token categories"
        )
    handover_categories = (
        training_categories(read_docs(train_path, nlp.vocab)) if train_path else HANDOVER_TRAINING_CATEGORIES
    )
    predicted_docs = predict_docs(nlp, gold_docs, batch_size=batch_size)
    scores = {
        "dataset": dataset,
        "scheme": scheme,
        "corpora": corpora,
        "model": model_description(model, nlp),
        "gold": Path(gold_path).name,
        "spans_key": spans_key,
        **score_documents(gold_docs, predicted_docs, handover_categories, predicted_spans_key=spans_key),
    }
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / f"{dataset}.json").write_text(json.dumps(scores, indent=2) + "\n", encoding="utf8")
    write_report(scores, output_dir, dataset)
    write_error_pages(gold_docs, predicted_docs, output_dir / f"{dataset}-errors", scores, dataset,
                      spans_key=spans_key, no_text=no_text)
    if brat_dir is not None:
        write_brat_predictions(predicted_docs, brat_dir, predicted_spans_key=spans_key)
    return scores
