"""DocBin files, deterministic dev and test splits and SamBD-style sentence down-sampling."""

import logging
from bisect import bisect_right
import random
import time
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

from spacy.tokens import Doc, DocBin, Span
from spacy.vocab import Vocab

from ..pipeline.data_model import ENTITIES_SPANS_KEY
from .conversion_report import ConversionReport
from ..pipeline.tokenizer import shared_clinical_english

logger = logging.getLogger(__name__)


def write_docbin(
    docs: Iterable[Doc],
    path: Path,
    report: Optional[ConversionReport] = None,
    progress_every: int = 100,
) -> int:
    """Save ``docs`` with their user data to ``path``; log progress every N docs.

    With ``report``, its ``seconds`` is set to the time taken. Returns the doc count.
    """
    started = time.perf_counter()
    docbin = DocBin(store_user_data=True)
    for docbin_count, doc in enumerate(docs, start=1):
        docbin.add(doc)
        if docbin_count % progress_every == 0:
            seconds = time.perf_counter() - started
            logger.info("%d documents converted (%.1f s)", docbin_count, seconds)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    docbin.to_disk(path)
    if report is not None:
        report.seconds = time.perf_counter() - started
    return len(docbin)


def read_docbin(path: Path, vocab: Optional[Vocab] = None) -> List[Doc]:
    """Load every Doc of a DocBin file (import :mod:`clinical_ie` to read ``doc._``)."""
    return list(DocBin().from_disk(path).get_docs(vocab or shared_clinical_english().vocab))


def split_off(docs: List[Doc], count: int, seed: int = 0) -> Tuple[List[Doc], List[Doc]]:
    """Split documents into ``(rest, chosen)``: ``count`` documents chosen by ``seed``.

    Which documents are chosen depends only on the seed and the ``doc._.doc_id`` set
    (not on input order); both lists keep the input order.
    """
    if not 0 <= count <= len(docs):
        raise ValueError(f"count must be in [0, {len(docs)}], got {count}")
    ids = sorted(doc._.doc_id for doc in docs)
    if len(set(ids)) != len(ids):
        raise ValueError("documents must have distinct doc._.doc_id values")
    random.Random(seed).shuffle(ids)
    chosen_ids = set(ids[:count])
    rest = [doc for doc in docs if doc._.doc_id not in chosen_ids]
    chosen = [doc for doc in docs if doc._.doc_id in chosen_ids]
    return rest, chosen


def split_dev(docs: List[Doc], fraction: float = 0.1, seed: int = 0) -> Tuple[List[Doc], List[Doc]]:
    """Split documents into ``(train, dev)``: dev is ``round(fraction * n)`` documents
    chosen by :func:`split_off`."""
    if not 0 <= fraction < 1:
        raise ValueError(f"fraction must be in [0, 1), got {fraction}")
    return split_off(docs, round(fraction * len(docs)), seed)


def _shifted_fragments(
    fragments: List[List[int]], kept_starts: List[int], kept_shifts: List[int]
) -> List[List[int]]:
    """Fragments moved left by the text dropped before their kept sentence."""
    shift = kept_shifts[bisect_right(kept_starts, fragments[0][0]) - 1]
    return [[start - shift, end - shift] for start, end in fragments]


def downsample_sentences(
    doc: Doc, ratio: float, seed: int, report: Optional[ConversionReport] = None
) -> Doc:
    """SamBD (Belkadi et al. 2022): keep every sentence holding an entity and a
    ``ratio`` share of the others, chosen by ``seed`` and ``doc._.doc_id``.

    Returns a new Doc of the kept sentences in order (text, tokens, sentence starts,
    ``doc.ents``, ``doc.spans["entities"]``, every ``doc._`` value; brat fragment
    offsets are moved with their sentence). Sentences never cut a gold entity, so
    all entities and relations are kept. Counts go to ``report.sampling``.
    """
    rng = random.Random(f"{seed}:{doc._.doc_id}")
    entity_spans = list(doc.spans[ENTITIES_SPANS_KEY]) if ENTITIES_SPANS_KEY in doc.spans else []
    has_entity = [False] * len(doc)
    for span in entity_spans + list(doc.ents):
        for i in range(span.start, span.end):
            has_entity[i] = True
    kept_tokens, kept_starts, kept_shifts = [], [], []
    dropped_chars = 0
    sentences = {"total": 0, "with_entities": 0, "without_entities": 0, "without_kept": 0}
    for sentence in doc.sents:
        with_entity = any(has_entity[sentence.start : sentence.end])
        keep = with_entity or rng.random() < ratio
        sentences["total"] += 1
        sentences["with_entities" if with_entity else "without_entities"] += 1
        sentences["without_kept"] += keep and not with_entity
        if not keep:
            dropped_chars += len(sentence.text_with_ws)
            continue
        kept_starts.append(sentence.start_char)
        kept_shifts.append(dropped_chars)
        kept_tokens.extend(sentence)
    new_index = {token.i: index for index, token in enumerate(kept_tokens)}
    sampled = Doc(
        doc.vocab,
        words=[token.text for token in kept_tokens],
        spaces=[bool(token.whitespace_) for token in kept_tokens],
        sent_starts=[bool(token.is_sent_start) for token in kept_tokens],
    )

    def moved(span: Span) -> Span:
        start = new_index[span.start]
        return Span(sampled, start, start + len(span), span.label_, span_id=span.id_)

    sampled.spans[ENTITIES_SPANS_KEY] = [moved(span) for span in entity_spans]
    sampled.ents = [moved(span) for span in doc.ents]
    sampled.user_data.update(doc.user_data)
    if doc._.brat_entities is not None:
        sampled._.brat_entities = [
            {
                **entity,
                "fragments": _shifted_fragments(entity["fragments"], kept_starts, kept_shifts),
            }
            for entity in doc._.brat_entities
        ]
    for name in ("token_categories", "baseline_categories"):
        values = getattr(doc._, name)
        if values is not None:
            setattr(sampled._, name, [values[token.i] for token in kept_tokens])
    if report is not None:
        if report.sampling is None:
            report.sampling = {
                "ratio": ratio,
                "seed": seed,
                "sentences": dict.fromkeys(sentences, 0),
                "tokens_before": 0,
                "tokens_after": 0,
            }
        for key, count in sentences.items():
            report.sampling["sentences"][key] += count
        report.sampling["tokens_before"] += len(doc)
        report.sampling["tokens_after"] += len(sampled)
    return sampled
