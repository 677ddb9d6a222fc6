"""spark-submit entry point: `spark-submit [spark options] jobs/lakehouse_submit.py COMMAND [ARGS]`.

It takes the session spark-submit created (the cluster's settings, jars and Delta configuration) and
runs the same CLI as the `lakehouse` console script; see docs/operations.md.
"""

from retail_lakehouse.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
