"""The config model and feed lists: defaults, overrides, and one-line errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsbeam.pipeline.config import ConfigError, load_config, resolve_feeds
from newsbeam.pipeline.feedlist import read_feed_list
from newsbeam.transforms.dedup import DedupSettings
from newsbeam.transforms.fetch import FetchSettings
from newsbeam.transforms.stories import StorySettings

FEEDS = Path(__file__).parent / "data" / "feeds"


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_bundled_config_lists_existing_sample_feeds():
    config, base = load_config()
    feeds = resolve_feeds(config, base)
    assert len(feeds) >= 8
    assert all(Path(f.url).is_file() for f in feeds)
    assert config.output == "output"


def test_stage_defaults_come_from_the_stage_and_can_be_overridden_key_by_key(tmp_path):
    config, _ = load_config(write(tmp_path, "feeds: [https://example.com/rss]\nfetch:\n  max_bytes: 1000\n"))
    assert config.fetch.max_bytes == 1000
    assert config.fetch.retries == FetchSettings().retries


def test_cli_overrides_win_over_the_file(tmp_path):
    config, _ = load_config(write(tmp_path, "feeds: [https://a/rss]\noutput: out1\n"), {"output": "out2"})
    assert config.output == "out2"
    assert config.runner == "direct"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("feeds: [https://a/rss]\nfetch:\n  max_byte: 10\n", "fetch.max_byte: unknown key"),
        (
            "feeds: [https://a/rss]\nfetch:\n  max_bytes: lots\n",
            "fetch.max_bytes: Input should be a valid integer",
        ),
        ("feeds: [https://a/rss]\noutpt: x\n", "outpt: unknown key"),
        ("feeds: [https://a/rss]\nworkers: 0\n", "workers: Input should be greater than or equal to 1"),
        ("feeds: [https://a/rss]\ndedup:\n  lookback_days: 0\n", "dedup: Value error, lookback_days must be"),
        ("feeds: [https://a/rss]\nsink:\n  compression: zip\n", "unknown Parquet compression 'zip'"),
        (
            "feeds: [https://a/rss]\ndedup:\n  lsh_bands: 30\n",
            "dedup: Value error, lsh_bands must divide 128",
        ),
        (
            "feeds: [https://a/rss]\ndedup:\n  stories:\n    threshold: 2\n",
            "dedup.stories: Value error, stories.threshold must be in (0, 1]",
        ),
        (
            "feeds: [https://a/rss]\ndedup:\n  stories:\n    thresold: 0.2\n",
            "dedup.stories.thresold: unknown key",
        ),
        ("feeds:\n  - url: https://a/rss\n    region_hint: Israel\n", "feeds.0.FeedEntry.region_hint"),
        ("feeds: [https://a/rss]\nenrich:\n  taxonomy_path: nowhere.yaml\n", "enrich.taxonomy_path:"),
        ("feeds: [https://a/rss]\nclean:\n  rules_path: nowhere.yaml\n", "clean.rules_path:"),
        ("feeds: [https://a/rss\n", "is not valid YAML"),
        ("- just\n- a list\n", "the top level must be a mapping"),
    ],
)
def test_a_bad_config_is_one_line_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, text))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_dedup_settings_nest_and_override_key_by_key(tmp_path):
    text = "feeds: [https://a/rss]\ndedup:\n  drop_near_duplicates: true\n  stories:\n    window_hours: 48\n"
    config, _ = load_config(write(tmp_path, text))
    assert config.dedup.drop_near_duplicates is True
    assert config.dedup.stories.window_hours == 48.0
    assert config.dedup.stories.threshold == StorySettings().threshold  # the stage's default, not repeated
    assert config.dedup.near_duplicate_threshold == DedupSettings().near_duplicate_threshold


def test_missing_files_are_named(tmp_path):
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.yaml"):
        load_config(tmp_path / "nope.yaml")
    config, base = load_config(write(tmp_path, "feeds: [missing.xml]\n"))
    with pytest.raises(ConfigError, match=r"feeds\[0\]: feed file not found: .*missing.xml"):
        resolve_feeds(config, base)
    config, base = load_config(write(tmp_path, "feeds_file: nowhere.opml\n"))
    with pytest.raises(ConfigError, match="feeds_file: feed list not found"):
        resolve_feeds(config, base)


def test_only_http_urls_and_paths_are_feeds(tmp_path):
    config, base = load_config(write(tmp_path, "feeds: ['ftp://example.com/rss']\n"))
    with pytest.raises(ConfigError, match="only http"):
        resolve_feeds(config, base)


def test_relative_feed_paths_resolve_against_the_config_and_duplicates_go(tmp_path):
    (tmp_path / "a.xml").write_text("<rss/>")
    config, base = load_config(
        write(tmp_path, "feeds: [a.xml, ./a.xml, 'https://x.org/rss', 'https://x.org/rss']\n")
    )
    feeds = resolve_feeds(config, base)
    assert [f.url for f in feeds] == [str((tmp_path / "a.xml").resolve()), "https://x.org/rss"]


def test_opml_with_nested_outlines():
    feeds = read_feed_list(FEEDS / "feeds.opml")
    assert len(feeds) == 3
    assert all(f["url"].startswith("http://127.0.0.1:PORT/") for f in feeds)


def test_plain_list_skips_comments_and_blank_lines():
    feeds = read_feed_list(FEEDS / "feeds.txt")
    assert [f["url"].split("PORT/", 1)[1] for f in feeds] and len(feeds) == 2


def test_yaml_feed_list_keeps_per_feed_options():
    feeds = read_feed_list(FEEDS / "feeds.yaml")
    assert feeds and all("url" in f for f in feeds)
    assert any("region_hint" in f or "language" in f or "name" in f for f in feeds)


def test_feeds_file_entries_are_validated_like_config_keys(tmp_path):
    write(tmp_path, "- url: https://a/rss\n  colour: red\n", "list.yaml")
    config, base = load_config(write(tmp_path, "feeds_file: list.yaml\n"))
    with pytest.raises(ConfigError, match="colour: unknown key"):
        resolve_feeds(config, base)
