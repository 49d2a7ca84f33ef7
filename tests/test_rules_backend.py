"""The rules backend as the registry builds it: instant to create, no model options, cached lexicon."""

from __future__ import annotations

import pytest

from agent.core.errors import UserError
from backends.registry import create


def test_creating_the_backend_loads_nothing(monkeypatch):
    import backends.rules.backend as backend_module

    monkeypatch.setattr(backend_module, "load_lexicon", lambda: pytest.fail("loaded at creation"))
    create("rules")


def test_model_options_are_a_user_error():
    with pytest.raises(UserError, match="--model"):
        create("rules", model="some/model")


def test_the_lexicon_is_cached_under_the_train_sha256(session_cache):
    from agent.core.datafiles import TRAIN, data_path, sha256_of
    from backends.rules.lexicon import load_lexicon

    load_lexicon()
    cached = list((session_cache / "rules").glob("lexicon-*.json"))
    assert cached and sha256_of(data_path(TRAIN))[:16] in cached[0].name


def test_the_lexicon_is_loaded_once_per_data_and_cache_dir(session_cache):
    from backends.rules.lexicon import load_lexicon

    assert load_lexicon() is load_lexicon()


def test_the_signature_names_the_lexicon():
    assert create("rules").signature()["backend"] == "rules"
