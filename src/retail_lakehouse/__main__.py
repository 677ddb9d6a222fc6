"""`python -m retail_lakehouse` runs the CLI (used by the spark-submit script and wheel tasks)."""

from retail_lakehouse.cli import main

raise SystemExit(main())
