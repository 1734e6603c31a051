"""``python -m qorm_codegen``: the qorm-codegen command line."""

from __future__ import annotations

import sys

from qorm_codegen.cli import main

if __name__ == "__main__":
    sys.exit(main())
