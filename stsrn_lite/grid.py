"""``python -m stsrn_lite.grid``: the run grid's command (`stsrn_lite.book.grid`)."""

from stsrn_lite.book.grid import main

if __name__ == "__main__":
    raise SystemExit(main())
