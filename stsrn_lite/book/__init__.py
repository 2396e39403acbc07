"""The book layer: what the notebooks of the Jupyter Book use on top of the core package.

The core (`stsrn_lite.data`, `preprocess`, `model`, `training`, `evaluation`, `synthetic`,
`baselines`) knows nothing of the book. This subpackage holds:

- `session`, `profiles`: what a chapter runs with (profile, device, folds, epochs, seeds);
- `experiments`: train-and-test runs reused across chapters, and the result files they keep;
- `paper`: the paper's own numbers (never a result of ours);
- `tables`, `curves`, `pairs`: result rows as tables beside the paper, statistical plots, training pairs;
- `architecture`, `frames`, `flow_check`, `efficiency`, `parameter_counts`: the figures and checks
  of the architecture, data, preprocessing and efficiency chapters.
"""

import pandas as pd

# The chapters show whole cells: pandas cuts a cell at 50 characters by default, which would hide
# which runs of a comparison were trained again after diverging (`claims.retried_text`).
pd.set_option("display.max_colwidth", None)
