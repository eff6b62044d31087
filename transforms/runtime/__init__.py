"""How a worker spends its cores and memory: the per-image work, threads, processes, malloc."""
