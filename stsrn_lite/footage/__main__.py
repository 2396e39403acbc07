from stsrn_lite.footage.cli import main

raise SystemExit(main())
