"""Annotate notes with a trained pipeline, from one process to a Ray cluster, resumably.

The command is clinical_ie.annotate.cli; run with --help for its options.
"""

from clinical_ie.annotate.cli import app

if __name__ == "__main__":
    app(prog_name="annotate")
