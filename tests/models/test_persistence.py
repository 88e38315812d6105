from __future__ import annotations

import joblib
import numpy as np
import pytest

from models.classifiers import TextClassifier
from models.factory import make_estimator
from tests.models.conftest import TextData


@pytest.mark.parametrize("kind", ["intent", "sentiment", "urgency"])
def test_joblib_round_trip(kind: str, tmp_path, train_data: TextData, test_data: TextData) -> None:  # type: ignore[no-untyped-def]
    model = make_estimator(kind, vip_emails=frozenset({"vip@example.com"})).fit(
        train_data.texts, train_data.labels, train_data.embeddings)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    assert np.allclose(loaded.predict_proba(test_data.texts, test_data.embeddings),
                       model.predict_proba(test_data.texts, test_data.embeddings))
    assert [p.as_dict() for p in loaded.predictions(test_data.texts, test_data.embeddings)] == \
        [p.as_dict() for p in model.predictions(test_data.texts, test_data.embeddings)]
    # The encoder is shared per process and never part of the artifact.
    assert "_model" not in str(vars(loaded).keys()) and "encoder" not in vars(loaded)


def test_model_pickled_before_new_hyperparameters_still_loads(tmp_path, train_data: TextData) -> None:  # type: ignore[no-untyped-def]
    model = TextClassifier(C=8.0, calibration=None).fit(train_data.texts, train_data.labels, train_data.embeddings)
    state = dict(vars(model))
    for name in ("loss", "calibration", "threshold", "oos_label", "cv", "temperature_", "threshold_"):
        state.pop(name, None)
    old = TextClassifier.__new__(TextClassifier)
    old.__setstate__(state)
    path = tmp_path / "old.joblib"
    joblib.dump(old, path)
    loaded = joblib.load(path)
    assert loaded.temperature_ == 1.0 and loaded.threshold_ == 0.0 and loaded.calibration is None
    assert np.allclose(loaded.predict_proba(train_data.texts, train_data.embeddings),
                       model.predict_proba(train_data.texts, train_data.embeddings))
