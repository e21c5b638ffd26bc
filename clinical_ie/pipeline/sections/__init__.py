"""Section headers of clinical notes: the ``clinical_sections`` component."""

from .component import ClinicalSections, make_sections, register_section_extensions

__all__ = ["ClinicalSections", "make_sections", "register_section_extensions"]
