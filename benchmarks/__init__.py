"""Benchmarks: a seeded whole-country raw data set (``benchmarks.country``) and the
measurements ``make bench`` prints and writes to ``docs/benchmarks.md`` (``benchmarks.bench``).

Nothing here is imported by the pipeline; the generator imports no indicator code either (only
the sample writers' helpers), so the pipeline has to earn its numbers by reading the files.
"""
