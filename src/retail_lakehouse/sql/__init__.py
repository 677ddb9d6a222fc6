"""The SQL transform: a Spark SQL query in configuration over a job's named inputs."""
