"""Settings and triage.toml validation: clear errors that say what to fix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from triage.config import Settings, load_config, parse_duration
from triage.errors import UserError


def test_bundled_default_has_three_teams_and_eight_agents() -> None:
    config = load_config(None)
    assert len(config.teams) == 3 and len(config.agents) == 8
    assert config.team_for_intent("refund_request") == "billing"
    assert config.team_for_intent("other") == config.default_team
    assert config.sla_for("email", "urgent") is not None


@pytest.mark.parametrize(("text", "expected"), [("30m", timedelta(minutes=30)), ("4h", timedelta(hours=4)),
                                               ("1.5d", timedelta(hours=36)), (" 2 h ", timedelta(hours=2))])
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "4", "h", "4 weeks", "-1h"])
def test_parse_duration_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "triage.toml"
    path.write_text(body)
    return path


MINIMAL = """
default_team = "a"
[[teams]]
name = "a"
intents = ["refund_request"]
"""


def test_minimal_config_loads(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL))
    assert config.agents == [] and config.team_for_intent("refund_request") == "a"


@pytest.mark.parametrize(("extra", "message"), [
    ('[[agents]]\nname = "x"\nemail = "x@example.com"\nteams = ["nope"]\n', "unknown team 'nope'"),
    ('[[agents]]\nname = "x"\nemail = "not-an-address"\nteams = ["a"]\n', "not an email address"),
    ('[[agents]]\nname = "x"\nemail = "x@example.com"\nteams = ["a"]\ntimezone = "Mars/Base"\n',
     "unknown time zone"),
    ('[[agents]]\nname = "x"\nemail = "x@example.com"\nteams = ["a"]\ncapacity = -1\n', "capacity"),
    ('[[teams]]\nname = "b"\nintents = ["refund_request"]\n', "mapped to both"),
    ('[[sla]]\nchannel = "email"\npriority = "high"\nfirst_response = "soon"\nresolution = "1d"\n',
     "invalid duration"),
    ('[[sla]]\nchannel = "fax"\npriority = "high"\nfirst_response = "1h"\nresolution = "1d"\n', "channel"),
    ("surprise = 1\n", "surprise"),
    ('[language]\ndetect = ["en", "german"]\n', "ISO 639-1 codes"),
    ("[language]\ndetect = []\n", "ISO 639-1 codes"),
])
def test_bad_config_says_what_is_wrong(tmp_path: Path, extra: str, message: str) -> None:
    path = _write(tmp_path, MINIMAL + extra)
    with pytest.raises(UserError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_detected_languages_default_to_four_and_are_configurable(tmp_path: Path) -> None:
    assert load_config(_write(tmp_path, MINIMAL)).language.detect == ["en", "de", "fr", "es"]
    config = load_config(_write(tmp_path, MINIMAL + '[language]\ndetect = ["EN", "it", "nl", "it"]\n'))
    assert config.language.detect == ["en", "it", "nl"]


def test_invalid_toml_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not valid TOML"):
        load_config(_write(tmp_path, "teams = [[["))


def test_unknown_default_team(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="default_team"):
        load_config(_write(tmp_path, MINIMAL.replace('default_team = "a"', 'default_team = "zzz"')))


def test_explicit_config_file_must_exist(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, config_file=tmp_path / "missing.toml")
    with pytest.raises(UserError, match="does not exist"):
        load_config(settings=settings)


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIAGE_HOME", str(tmp_path))
    monkeypatch.setenv("TRIAGE_DATABASE_URL", "postgresql+psycopg://u@h/db")
    s = Settings()
    assert s.home == tmp_path and s.db_url == "postgresql+psycopg://u@h/db"
    assert s.models_dir == tmp_path / "models"
    monkeypatch.delenv("TRIAGE_DATABASE_URL")
    assert Settings().db_url.startswith("sqlite:///") and Settings().db_url.endswith("triage.db")


def test_placeholder_secret_refused_in_production() -> None:
    with pytest.raises(ValueError, match="TRIAGE_SECRET_KEY"):
        Settings(environment="production")
    assert Settings(environment="production", secret_key="s3cret-value").secret_key == "s3cret-value"
