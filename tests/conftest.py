"""Shared test helpers.

Pipelines in tests run on Beam's FnApiRunner, the batch engine behind the DirectRunner, named explicitly:
Beam 2.77's DirectRunner first tries the Prism runner, which downloads a binary (no network here).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline

DATA = Path(__file__).parent / "data"
SEED_PATH = DATA / "seed_afa6e4451900c9df.txt"
FETCHED_AT = dt.datetime(2024, 5, 21, 12, 0, tzinfo=dt.UTC)


def make_test_pipeline() -> TestPipeline:
    return TestPipeline(runner="FnApiRunner", options=PipelineOptions([]))


@pytest.fixture
def seed_text() -> str:
    return SEED_PATH.read_text(encoding="utf-8")
