"""Annotate notes with a trained pipeline, from one process to a Ray cluster, resumably.

The command is clinical_ie.annotate.cli; run with --help for its options.
"""

import sys

from clinical_ie.annotate.cli import main

if __name__ == "__main__":
    sys.exit(main())
