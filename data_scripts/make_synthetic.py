"""`stsrn-make-synthetic` (stsrn_lite.synthetic.cli), for ``python data_scripts/make_synthetic.py``."""

import sys

from stsrn_lite.synthetic.cli import main

if __name__ == "__main__":
    sys.exit(main())
