"""`stsrn-inspect` (stsrn_lite.data.cli.inspect), for ``python data_scripts/inspect_dataset.py``."""

import sys

from stsrn_lite.data.cli.inspect import main

if __name__ == "__main__":
    sys.exit(main())
