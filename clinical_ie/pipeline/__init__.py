"""Everything ``spacy.load("en_clinical_ie")`` needs, and nothing else: the clinical tokenizer,
the transformer model, the data model (Doc and Span extensions, medication records) and the
components (``crf_ner``, ``relations``). Importing this package registers the extensions; spaCy
finds the factories and registered functions through the entry points in ``setup.cfg``."""

from .data_model import register_extensions

register_extensions()
