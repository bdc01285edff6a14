"""Broken HF checkpoints give a CheckpointError that names the file and says what to do."""
import json

import numpy as np
import pytest

from mighty import models
from mighty.models.hf_weights import CheckpointError
from tests.models.conftest import hf_logits, make_hf_model


@pytest.fixture()
def ckpt(tmp_path):
    model = make_hf_model("llama", seed=3)
    model.save_pretrained(tmp_path)
    return tmp_path, model


def test_a_truncated_shard_is_named(ckpt):
    d, _ = ckpt
    f = d / "model.safetensors"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"model\.safetensors.*truncated"):
        models.load_pretrained(d)


def _null_ids(d):
    cfg = json.loads((d / "config.json").read_text())
    want = {k: cfg.get(k) for k in ("eos_token_id", "bos_token_id", "pad_token_id")}
    cfg.update(eos_token_id=None, bos_token_id=None, pad_token_id=None)
    (d / "config.json").write_text(json.dumps(cfg))
    return want


def test_null_ids_come_from_generation_config(ckpt, caplog):
    d, hf = ckpt
    want = _null_ids(d)
    (d / "generation_config.json").write_text(json.dumps({"eos_token_id": 5, "bos_token_id": 4}))
    model, _ = models.load_pretrained(d)
    assert (model.cfg.eos_id, model.cfg.bos_id, model.cfg.pad_id) == (5, 4, 5)
    assert any("eos_token_id is null; using 5 from generation_config.json" in r.getMessage() for r in caplog.records)
    ids = np.array([[4, 7, 9, 11]], np.int32)
    np.testing.assert_allclose(np.asarray(model(ids)), hf_logits(hf, ids), atol=1e-4)
    assert want  # the fixture had ids to lose


def test_null_eos_with_no_other_source_is_a_named_error(ckpt):
    d, _ = ckpt
    _null_ids(d)
    (d / "generation_config.json").unlink(missing_ok=True)
    with pytest.raises(CheckpointError, match=r"config\.json: eos_token_id is null.*set eos_token_id"):
        models.load_pretrained(d)
