"""Evaluation as the literature reports it: metrics (:mod:`.metrics`) from gold and predicted
Docs, the evaluate step (:mod:`.evaluate`), its Markdown report and plots (:mod:`.report`), and
an official-semantics scorer of brat folders (:mod:`.brat_scoring`)."""
