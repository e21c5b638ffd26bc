"""ConText assertion and medication status of spans: the ``clinical_context`` component."""

from .component import ClinicalContext, make_context

__all__ = ["ClinicalContext", "make_context"]
