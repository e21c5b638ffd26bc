"""The real-text benchmark: how the default config does on public real corpora.

``python -m tools.realtext CORPUS_DIR... [--bioscope DIR] [--notes FILE...]`` trains
``configs/default.cfg`` on each annotated corpus (``CORPUS_DIR/{train,dev,test}.spacy``, e.g. as
``scripts/convert.py`` writes them) with the short-run defaults, scores the final model on its
test split (:mod:`.spans`), scores ``clinical_context`` and negspacy on BioScope (:mod:`.assertion`),
the dosage parser on the corpora's real strings (:mod:`.dosage`) and words/s against the encoder's
limit on real notes of several lengths (:mod:`.speed`), and writes ``benchmarks/realtext.{json,md}``
(numbers only). ``--library-revision REV`` measures the library (and its configs) as committed at
``REV`` instead, with the same scoring: the "before" of a change.
"""
