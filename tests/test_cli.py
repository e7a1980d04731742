"""End to end: the `newsbeam` command as a subprocess, feeds served by a real HTTP server on 127.0.0.1,
output read back with DuckDB and pyarrow.dataset."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest

from newsbeam.transforms.records import ARTICLE_SCHEMA

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "configs" / "samples"
FIXTURES = Path(__file__).parent / "data" / "feeds"
NEWSBEAM = [sys.executable, "-m", "newsbeam.pipeline.cli"]


def newsbeam(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*NEWSBEAM, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def summary_of(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def serve(httpserver, directory: Path, pattern: str = "*") -> list[str]:
    urls = []
    for path in sorted(directory.glob(pattern)):
        if path.suffix not in (".xml", ".json", ".html", ".atom", ".rss"):
            continue
        content_type = "application/feed+json" if path.suffix == ".json" else "application/xml"
        httpserver.expect_request(f"/{path.name}").respond_with_data(path.read_bytes(), content_type=content_type)
        urls.append(httpserver.url_for(f"/{path.name}"))
    return urls


def articles_duckdb(output: Path) -> list[dict]:
    con = duckdb.connect()
    rel = con.execute(f"select * from read_parquet('{output}/articles/**/*.parquet', hive_partitioning=true)")
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]


def test_bad_config_fails_fast_naming_the_key(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("feeds: [https://example.com/rss]\nfetch:\n  timeout: 5\n")
    result = newsbeam("run", "--config", str(config), "--output", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "fetch.timeout: unknown key" in result.stderr
    assert not (tmp_path / "out").exists()


def test_missing_feed_file_and_unknown_option_fail_fast(tmp_path):
    missing = newsbeam("run", "--feed", str(tmp_path / "nope.xml"), "--output", str(tmp_path / "out"))
    assert missing.returncode == 2 and "feed file not found" in missing.stderr
    typo = newsbeam("run", "--feed", "https://example.com/rss", "--outptu", str(tmp_path))
    assert typo.returncode == 2 and "unknown option --outptu" in typo.stderr
    assert not (tmp_path / "out").exists()
