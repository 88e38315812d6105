"""The [qa] section of triage.toml: the bundled default, and errors that name the field to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.config import DEFAULT_RUBRIC, load_config
from triage.errors import UserError

BASE = 'default_team = "care"\n[[teams]]\nname = "care"\n'


def _load(tmp_path: Path, qa: str) -> object:
    path = tmp_path / "triage.toml"
    path.write_text(BASE + qa, encoding="utf-8")
    return load_config(path)


def test_the_bundled_file_spells_out_the_defaults() -> None:
    qa = load_config().qa
    assert (qa.period, qa.sample_size, qa.calibration_samples, qa.calibration_reviewers) == ("week", 5, 2, 3)
    assert [(i.name, i.weight, i.scale_min, i.scale_max) for i in qa.rubric] == [
        (i.name, i.weight, i.scale_min, i.scale_max) for i in DEFAULT_RUBRIC]
    assert "Larkspur" in qa.spelling_ignore


def test_a_custom_rubric(tmp_path: Path) -> None:
    config = _load(tmp_path, '[qa]\nperiod = "month"\nsample_size = 8\n'
                             '[[qa.rubric]]\nname = "empathy"\nweight = 2\nscale_min = 0\nscale_max = 3\n')
    assert config.qa.period == "month" and [i.name for i in config.qa.rubric] == ["empathy"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("qa", "message"), [
    ('[qa]\nperiod = "fortnight"\n', "qa.period"),
    ("[qa]\nsample_size = -1\n", "qa.sample_size"),
    ("[qa]\ncalibration_reviewers = 1\n", "qa.calibration_reviewers"),
    ("[qa]\nsample_sise = 3\n", "qa.sample_sise: Extra inputs are not permitted"),
    ('[[qa.rubric]]\nname = "tone"\nweight = 0\n', "qa.rubric.0.weight"),
    ('[[qa.rubric]]\nname = "Tone Of Voice"\n', "use lower-case letters"),
    ('[[qa.rubric]]\nname = "tone"\nscale_min = 5\nscale_max = 5\n', "scale_min (5) must be below scale_max (5)"),
    ('[[qa.rubric]]\nname = "tone"\n[[qa.rubric]]\nname = "tone"\n', "rubric item names must be unique: tone"),
    ("[qa]\nrubric = []\n", "the rubric needs at least one item"),
])
def test_mistakes_name_the_field(tmp_path: Path, qa: str, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _load(tmp_path, qa)
