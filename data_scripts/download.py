"""`stsrn-download` (stsrn_lite.data.cli.download), for ``python data_scripts/download.py``."""

import sys

from stsrn_lite.data.cli.download import main

if __name__ == "__main__":
    sys.exit(main())
