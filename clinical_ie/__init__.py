"""en_clinical_ie: clinical information extraction with spaCy.

``clinical_ie.pipeline`` is what a loaded model needs; ``corpora``, ``training``,
``evaluation`` and ``annotate`` are the workflow around it.
"""

__version__ = "0.1.0"
