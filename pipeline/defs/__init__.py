"""Dagster definitions by concept: ingest (raw), transform (staging, marts), publish, reports."""
