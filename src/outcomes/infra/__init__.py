"""Plumbing with no clinical content: files, paths, progress bars, processes, Dask clusters,
the headline registry. The bottom layer: it imports nothing else of outcomes."""
