"""The one validated config model: YAML defaults first, then the user's file, then CLI flags.

Each stage owns its settings dataclass and the defaults in it (FetchSettings, DedupSettings, ...); this
model only composes them, so no default is written twice. Unknown keys and wrong types are errors that
name the key; a bad config stops the run before any work (exit code 2).
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from newsbeam.pipeline.feedlist import FeedListError, read_feed_list
from newsbeam.transforms.clean import CleanSettings, load_rules, parse_site_rules
from newsbeam.transforms.dedup import DedupSettings
from newsbeam.transforms.enrich import EnrichSettings, load_taxonomy
from newsbeam.transforms.fetch import FetchSettings
from newsbeam.transforms.records import FeedSpec
from newsbeam.transforms.sink import SinkSettings
from newsbeam.transforms.stream import StreamSettings

DEFAULT_CONFIG = "local.yaml"
LOCAL_RUNNER_NAMES = ("direct", "directrunner", "fnapirunner")  # Beam's local runner, under its names


class ConfigError(ValueError):
    """A bad config or option: one line that names the key or path."""


class FeedEntry(BaseModel):
    """A feed in the config: `url` is an http(s) URL or a path (relative to the config file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    name: str | None = None
    language: str | None = None
    region_hint: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    poll_interval_s: float | None = Field(default=None, gt=0)  # or `poll_interval: 15m` (see parse_duration)
    rules: dict[str, Any] | None = (
        None  # extra cleaning rules: the shape of a `sites:` entry of boilerplate.yaml
    )
    fetch_full_text: bool = False  # fetch the article page when the item holds only a teaser

    @field_validator("rules")
    @classmethod
    def _rules_are_valid(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        parse_site_rules(value, "rules")  # a ValueError naming the key inside `rules`
        return value

    @model_validator(mode="before")
    @classmethod
    def _poll_interval(cls, data: Any) -> Any:
        if isinstance(data, dict) and "poll_interval" in data:
            if "poll_interval_s" in data:
                raise ValueError("give poll_interval or poll_interval_s, not both")
            data = dict(data)
            data["poll_interval_s"] = parse_duration(data.pop("poll_interval"))
        return data


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> Any:
    """Seconds from a number or a string such as "90", "90s", "15m", "2h", "1d"; anything else is returned
    as it is, for the model to reject with its usual message.

    >>> parse_duration("15m")
    900.0
    """
    if isinstance(value, str):
        match = _DURATION.match(value.lower())
        if match:
            return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return value


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    feeds: list[FeedEntry | str] = []
    feeds_file: str | None = None  # OPML, plain list or YAML: its feeds are added to `feeds`
    output: str = "output"
    runner: str = "direct"  # direct (Beam's FnApiRunner) | dask | any Beam runner name (DataflowRunner, ...)
    workers: int = Field(default=1, ge=1)
    dask_address: str | None = None  # runner dask: a dask.distributed scheduler; None starts a local cluster
    fetch: FetchSettings = FetchSettings()
    clean: CleanSettings = CleanSettings()
    dedup: DedupSettings = DedupSettings()
    enrich: EnrichSettings = EnrichSettings()
    sink: SinkSettings = SinkSettings()
    stream: StreamSettings = StreamSettings()  # newsbeam stream only
    pipeline_options: dict[str, Any] = {}  # passed to Beam as --key=value

    @property
    def in_one_process(self) -> bool:
        """The local runner with one worker: every stage runs in this process, one after the other."""
        return self.runner.lower() in LOCAL_RUNNER_NAMES and self.workers == 1

    def beam_flags(self) -> list[str]:
        """`pipeline_options` as Beam command-line flags."""
        return [
            f"--{key}" if value is True else f"--{key}={value}"
            for key, value in self.pipeline_options.items()
        ]

    @field_validator("runner")
    @classmethod
    def _runner_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a runner")
        return value.strip()

    @field_validator("dask_address")
    @classmethod
    def _dask_address_is_url(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value:
            raise ValueError("must be a scheduler address such as tcp://10.0.0.5:8786")
        return value

    @model_validator(mode="after")
    def _dask_address_needs_dask(self) -> Config:
        if self.dask_address and self.runner.lower() != "dask":
            raise ValueError(f"dask_address is only used with runner: dask (runner is {self.runner})")
        return self


def _describe(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"]
    if first["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        message = "unknown key"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{source}: {key}: {message}{more}"


def default_config_path() -> Path:
    return Path(str(importlib.resources.files("newsbeam.configs").joinpath(DEFAULT_CONFIG)))


def load_config(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> tuple[Config, Path]:
    """Config from YAML (the bundled local.yaml when `path` is None) with CLI overrides applied.

    Returns the config and the directory that relative feed paths in it are resolved against.
    """
    config_path = Path(path) if path else default_config_path()
    if not config_path.is_file():
        raise ConfigError(f"config file not found: {config_path}")
    try:
        data = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(
            f"{config_path}:{where} is not valid YAML ({getattr(exc, 'problem', exc)})"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{config_path}: the top level must be a mapping of keys, not {type(data).__name__}"
        )
    data.update(overrides or {})
    base_dir = config_path.resolve().parent
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(config_path))) from None
    config = _check_data_file(config, base_dir, config_path, "enrich", "taxonomy_path", load_taxonomy)
    return _check_data_file(config, base_dir, config_path, "clean", "rules_path", load_rules), base_dir


def _check_data_file(config: Config, base_dir: Path, source: Path, section: str, key: str, load) -> Config:
    """A relative data-file path (`section.key`) is relative to the config file; a file `load` refuses is
    a config error naming the key."""
    settings = getattr(config, section)
    path = getattr(settings, key)
    if path and not Path(path).is_absolute():
        settings = dataclasses.replace(settings, **{key: str(base_dir / path)})
        config = config.model_copy(update={section: settings})
    try:
        load(getattr(settings, key))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{source}: {section}.{key}: {exc}") from None
    return config


def _is_url(value: str) -> bool:
    return "://" in value


def resolve_feeds(config: Config, base_dir: Path) -> list[FeedSpec]:
    """The feeds to poll: `feeds` (paths relative to `base_dir`) then those of `feeds_file` (paths relative
    to that file), each an http(s) URL or an absolute path that exists; duplicates removed."""
    sources = [
        (f"feeds[{i}]", FeedEntry(url=f) if isinstance(f, str) else f, base_dir)
        for i, f in enumerate(config.feeds)
    ]
    if config.feeds_file:
        feeds_file = Path(config.feeds_file)
        feeds_file = feeds_file if feeds_file.is_absolute() else base_dir / feeds_file
        try:
            listed = [FeedEntry.model_validate(item) for item in read_feed_list(feeds_file)]
        except FeedListError as exc:
            raise ConfigError(f"feeds_file: {exc}") from None
        except ValidationError as exc:
            raise ConfigError(_describe(exc, f"feeds_file {feeds_file}")) from None
        sources += [
            (f"{feeds_file.name}[{i}]", entry, feeds_file.resolve().parent) for i, entry in enumerate(listed)
        ]
    if not sources:
        raise ConfigError("feeds: no feeds to read (give --feed, --feeds-file, or `feeds:` in the config)")
    specs: dict[str, FeedSpec] = {}
    for where, entry, relative_to in sources:
        url = entry.url.strip().removeprefix("file://")
        if _is_url(url):
            if not url.lower().startswith(("http://", "https://")):
                raise ConfigError(f"{where}: {url}: only http(s) URLs and local paths are accepted")
        else:
            path = Path(url).expanduser()
            path = path if path.is_absolute() else relative_to / path
            if not path.is_file():
                raise ConfigError(f"{where}: feed file not found: {path}")
            url = str(path.resolve())
        rules = parse_site_rules(entry.rules, f"{where}.rules") if entry.rules else None
        specs.setdefault(
            url,
            FeedSpec(
                url,
                entry.name,
                entry.language,
                entry.region_hint,
                poll_interval_s=entry.poll_interval_s,
                rules=rules or None,
                fetch_full_text=entry.fetch_full_text,
            ),
        )
    return list(specs.values())


__all__ = ["Config", "ConfigError", "FeedEntry", "load_config", "resolve_feeds"]
