"""What the notebooks in notebooks/ read and compute, with Spark (on Databricks, the cluster's session).

The notebooks hold presentation only (widgets, display, plots); what a table is called, where it lives and
how a KPI is defined lives here, where it is tested."""
