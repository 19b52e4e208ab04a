"""The seeded generator of the bundled raw data (SYNTHETIC: calibrated, not real).

``python -m pipeline.sample --out data/raw`` writes every bundled raw file. The generator
imports nothing from the rest of the pipeline: the pipeline must earn the report's numbers by
reading these files, as it would read TEM's, Statistics Finland's and Kela's downloads.
"""
