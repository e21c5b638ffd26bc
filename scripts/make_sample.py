"""Write the synthetic sample corpus (n2c2 brat + nursing handover) and its README.md.

Usage: python scripts/make_sample.py assets/sample --seed 0
"""

import argparse
from pathlib import Path

from clinical_ie.sample import write_sample


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="output folder, e.g. assets/sample")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0: the committed sample)")
    args = parser.parse_args(argv)
    counts = write_sample(args.out_dir, args.seed)
    for name, number in sorted(counts["files"].items()):
        print(f"{name}: {number} files")


if __name__ == "__main__":
    main()
