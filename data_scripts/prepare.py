"""`stsrn-prepare` (stsrn_lite.preprocess.cli), for ``python data_scripts/prepare.py``."""

import sys

from stsrn_lite.preprocess.cli import main

if __name__ == "__main__":
    sys.exit(main())
