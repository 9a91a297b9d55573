"""`python -m simray` is the `simray` command."""

import sys

from simray._cli import main

if __name__ == "__main__":
    sys.exit(main())
