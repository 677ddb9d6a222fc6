"""The runner: reads a job's inputs, calls its transform, writes its output, records the run."""
