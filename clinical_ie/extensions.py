"""Custom attributes that carry gold annotation through a DocBin.

All values live in ``doc.user_data`` (spaCy stores extension values there), so they
survive ``DocBin(store_user_data=True)``. Call :func:`register_extensions` before
reading them; importing :mod:`clinical_ie` does so.

Data model written by the converters (see ``docs/data-model.md``):

- ``doc._.doc_id``: the document's identifier (file stem), never a path.
- ``doc._.corpus``: the task whose annotation the document carries (``n2c2`` or
  ``handover``); heads of other tasks do not learn from it.
- ``doc._.pretokenized``: True when the tokens are the source file's own (handover);
  training then keeps them (:class:`clinical_ie.corpora.ClinicalCorpus`) instead of
  re-tokenizing the text. None otherwise.
- ``doc._.brat_entities``: every gold entity as read, ``{"id", "label", "fragments"}``
  with ``fragments`` a list of ``[start_char, end_char]`` (discontinuous entities
  have several).
- ``doc._.relations``: ``{"id", "type", "arg1", "arg2"}`` with entity ids; argument
  order as in the source.
- ``doc._.token_categories`` / ``doc._.baseline_categories``: per-token gold and
  organisers' categories of nursing-handover documents.
- ``span._.confidence``: a predicted span's marginal probability, stored per offsets *and
  label* (:func:`span_confidence`): spaCy keys a span extension's value by character offsets
  only, so two heads that predict spans at the same offsets with different labels would
  otherwise overwrite each other's confidence.
- ``doc._.medications``: medication records computed from ``doc.ents`` and
  ``doc._.relations`` (:mod:`clinical_ie.records`); nothing is stored.
"""

from typing import Optional, Tuple

from spacy.tokens import Doc, Span

ENTITIES_SPANS_KEY = "entities"
"""``doc.spans`` key holding every gold entity, overlapping ones included."""

DOC_EXTENSIONS = (
    "doc_id",
    "corpus",
    "pretokenized",
    "brat_entities",
    "relations",
    "token_categories",
    "baseline_categories",
)


def _confidence_key(span: Span) -> Tuple[str, int, int, str]:
    return ("clinical_ie.confidence", span.start_char, span.end_char, span.label_)


def span_confidence(span: Span) -> Optional[float]:
    """The confidence stored for ``span``'s offsets and label (None if none was)."""
    return span.doc.user_data.get(_confidence_key(span))


def set_span_confidence(span: Span, value: Optional[float]) -> None:
    """Store ``value`` as the confidence of ``span``'s offsets and label."""
    span.doc.user_data[_confidence_key(span)] = value


def register_extensions() -> None:
    """Register the project's ``Doc`` and ``Span`` extensions (idempotent)."""
    for name in DOC_EXTENSIONS:
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
    if not Span.has_extension("confidence"):
        Span.set_extension("confidence", getter=span_confidence, setter=set_span_confidence)
    from .records import register_medications_extension  # records imports this module

    register_medications_extension()
