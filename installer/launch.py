"""The frozen program's entry point (both executables): Tiller's command line, `app.__main__.main`."""

import sys

from app.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
