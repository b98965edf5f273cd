"""Reading documents for the index with bounded work: safe front matter, limits, extraction in a child process.

Kept free of heavy imports: the extraction child imports this package before anything else."""
