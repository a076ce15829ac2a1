from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

BASE = """\
[storage]
path = "data/monitor.db"

[digest]
recipients = ["a@example.org"]

[[topics]]
name = "朝鲜半岛"
keywords = ["朝鲜"]

[[feeds]]
name = "one"
url = "https://example.org/one.xml"

[[feeds]]
name = "two"
url = "feeds/two.xml"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_example_config_loads_with_defaults_filled_in() -> None:
    config = load_config(ROOT / "config.example.toml")
    assert config.warnings == ()
    assert config.storage.path == ROOT / "monitor.db"
    assert config.digest.outbox == ROOT / "outbox"
    assert config.smtp is None
    assert config.fetch.concurrency == 16
    assert config.dedup.max_distance == 3
    assert [f.name for f in config.feeds][:3] == ["DW 中文", "纽约时报中文网", "RFI 中文"]
    assert config.digest.send_at.hour == 7
    assert config.digest.timezone == "Asia/Shanghai"


def test_relative_paths_are_relative_to_the_config_folder(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE))
    assert config.storage.path == tmp_path.resolve() / "data" / "monitor.db"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http:/no-host", "no host"),
        ("http://[x/feed", "Invalid IPv6 URL"),  # one urlsplit itself refuses
    ],
)
def test_bad_feed_url_names_file_line_and_key(tmp_path: Path, url: str, problem: str) -> None:
    text = BASE + f'\n[[feeds]]\nname = "three"\nurl = "{url}"\n'
    line = text.splitlines().index(f'url = "{url}"') + 1
    assert (
        error_of(tmp_path, text)
        == f"{tmp_path / 'config.toml'}:{line}: feeds[2].url: not a URL: {problem}"
    )


def test_a_misspelt_adapter_names_file_line_and_key(tmp_path: Path) -> None:
    text = (
        BASE + '\n[[feeds]]\nname = "three"\nurl = "https://example.org/3.xml"\nadapter = "dww"\n'
    )
    line = text.splitlines().index('adapter = "dww"') + 1
    assert error_of(tmp_path, text).startswith(
        f"{tmp_path / 'config.toml'}:{line}: feeds[2].adapter: no adapter named 'dww' (known: "
    )


def test_an_array_element_is_named_at_its_keys_line(tmp_path: Path) -> None:
    text = (
        BASE
        + '\n[[feeds]]\nname = "three"\nurl = "https://example.org/3.xml"\n\ntopics = ["体育"]\n'
    )
    line = text.splitlines().index('topics = ["体育"]') + 1
    assert error_of(tmp_path, text) == (
        f"{tmp_path / 'config.toml'}:{line}: feeds[2].topics[0]: no [[topics]] named '体育'"
    )


def test_the_adapter_names_a_config_may_give_are_the_adapters() -> None:
    from monitor.config.settings import ADAPTER_NAMES
    from monitor.parse.adapters import ADAPTERS

    assert sorted(ADAPTER_NAMES) == sorted(adapter.name for adapter in ADAPTERS)


def test_unsupported_scheme(tmp_path: Path) -> None:
    message = error_of(tmp_path, BASE.replace("https://example.org/one.xml", "ftp://x/y"))
    assert "feeds[0].url: unsupported URL scheme 'ftp'" in message


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:99999/x", "not a URL: Port out of range 0-65535"),
        ("http://127.0.0.1:0/x", "not a URL: port 0"),
        (" https://example.org/one.xml", "not a URL: space before or after it"),
        ("samples/dw.xml ", "not a URL: space before or after it"),
    ],
)
def test_a_feed_url_that_cannot_be_fetched_is_named(tmp_path: Path, url: str, problem: str) -> None:
    message = error_of(tmp_path, BASE.replace("https://example.org/one.xml", url))
    assert message.endswith(f"feeds[0].url: {problem}")


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, BASE + "\n[digest\n")
    assert message.startswith(f"{tmp_path / 'config.toml'}:{BASE.count(chr(10)) + 2}: invalid TOML")


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ('path = "data/monitor.db"', "path = 5", "storage.path: must be a string, not an integer"),
        ('recipients = ["a@example.org"]', 'recipients = ["nobody"]', "digest.recipients[0]: not an email address"),
        ('recipients = ["a@example.org"]', 'timezone = "Mars/Base"', "digest.timezone: unknown time zone 'Mars/Base'"),
        ('recipients = ["a@example.org"]', 'send_at = "25:00"', "digest.send_at: not a time of day"),
        ('keywords = ["朝鲜"]', 'keywords = "朝鲜"', "topics[0].keywords: must be an array of strings, not a string"),
        ('keywords = ["朝鲜"]', 'keywords = ["朝鲜"]\npatterns = ["("]', "topics[0].patterns[0]: bad regular expression"),
        ('keywords = ["朝鲜"]', 'keywords = ["朝鲜"]\nmin_mentions = 0', "topics[0].min_mentions: must be >= 1, not 0"),
        ('recipients = ["a@example.org"]', 'recipients = ["a@example.org"]\ntemplates = "nowhere"', "nowhere is not a folder (of digest.html.j2"),
        ('path = "data/monitor.db"', 'path = "m.db"\nkeep_days = 99999999', "storage.keep_days: must be between 0 and 36500, not 99999999"),
        ('url = "feeds/two.xml"', 'url = "feeds/two.xml"\ninterval = 1e300', "feeds[1].interval: must be at most 36,500 days, not 1e+300"),
        ('url = "feeds/two.xml"', 'url = "feeds/two.xml"\ninterval = nan', "feeds[1].interval: must be positive, not nan"),
        ('name = "two"', 'name = "one"', "feeds[1].name: duplicate feed name 'one'"),
        ('url = "feeds/two.xml"', 'url = "feeds/two.xml"\ntopics = ["体育"]', "feeds[1].topics[0]: no [[topics]] named '体育'"),
    ],
)  # fmt: skip
def test_wrong_values_are_named(tmp_path: Path, replace: str, by: str, expected: str) -> None:
    assert replace in BASE
    message = error_of(tmp_path, BASE.replace(replace, by, 1))
    assert expected in message
    assert message.startswith(str(tmp_path / "config.toml") + ":")


def test_fetch_limits_are_checked(tmp_path: Path) -> None:
    message = error_of(tmp_path, BASE + "\n[fetch]\nconcurrency = 0\n")
    assert message.endswith("fetch.concurrency: must be >= 1, not 0")


def test_password_in_config_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, BASE + '\n[smtp]\nhost = "h"\npassword = "secret"\n')
    assert "smtp.password" in message and "secret" not in message


def test_unknown_keys_warn_with_their_line(tmp_path: Path) -> None:
    text = BASE + "\n[fetch]\nconcurency = 3\n\n[extras]\nx = 1\n"
    config = load_config(write(tmp_path, text))
    line = text.splitlines().index("concurency = 3") + 1
    assert (
        f"{tmp_path / 'config.toml'}:{line}: fetch.concurency: unknown key, ignored"
        in config.warnings
    )
    assert any(": extras: unknown key" in w for w in config.warnings)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_smtp_defaults_follow_security(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE + '\n[smtp]\nhost = "mail"\nsecurity = "ssl"\n'))
    assert config.smtp is not None and config.smtp.port == 465


@pytest.mark.parametrize("host", ["mail.example.org", "10.0.0.5"])
def test_a_login_in_clear_to_another_host_is_refused(tmp_path: Path, host: str) -> None:
    smtp = f'[smtp]\nhost = "{host}"\nsecurity = "none"\nusername = "me"\npassword_env = "P"\n'
    message = error_of(tmp_path, BASE + smtp)
    assert message.startswith(f"{tmp_path / 'config.toml'}:")
    assert 'smtp.security: "none" would send the password of me to ' + host in message
    assert "allow_plaintext_login = true" in message
    # said explicitly, it is allowed; without a login, nothing is sent in clear but mail
    allowed = load_config(write(tmp_path, BASE + smtp + "allow_plaintext_login = true\n"))
    assert allowed.smtp is not None and allowed.smtp.username == "me"
    anonymous = f'[smtp]\nhost = "{host}"\nsecurity = "none"\n'
    assert load_config(write(tmp_path, BASE + anonymous)).smtp is not None


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_a_login_in_clear_to_this_machine_is_allowed(tmp_path: Path, host: str) -> None:
    smtp = f'[smtp]\nhost = "{host}"\nsecurity = "none"\nusername = "me"\npassword_env = "P"\n'
    config = load_config(write(tmp_path, BASE + smtp))
    assert config.smtp is not None and config.smtp.host == host


def test_a_topic_may_ask_for_more_or_fewer_mentions(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, BASE)).topics[0].min_mentions == 2
    text = BASE.replace('keywords = ["朝鲜"]', 'keywords = ["朝鲜"]\nmin_mentions = 1')
    assert load_config(write(tmp_path, text)).topics[0].min_mentions == 1
