"""The benchmark suite: datasets, workloads per engine, process measurement and the report."""
