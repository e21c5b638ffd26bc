"""``clinical_sections``: sections of clinical notes from their headers."""

from .component import ClinicalSections, make_sections

__all__ = ["ClinicalSections", "make_sections"]
