import pytest

from mighty import data
from mighty.data.freeze import main as freeze_main
from mighty.data.frozen import FrozenDataError, verify_manifest, write_freeze_manifest
from mighty.runtime import file_sha256


def test_modified_eval_file_fails_with_hashes(tiny_corpus):
    eval_path = tiny_corpus / "eval" / "eval.jsonl"
    assert len(data.load_eval(eval_path)) == 3
    old = file_sha256(eval_path)
    with open(eval_path, "a") as f:
        f.write("\n")
    new = file_sha256(eval_path)
    with pytest.raises(FrozenDataError) as e:
        data.load_eval(eval_path)
    msg = str(e.value)
    assert "eval.jsonl" in msg and old in msg and new in msg and "python -m mighty.data.freeze" in msg


def test_unlisted_and_missing_files(tiny_corpus):
    ev = tiny_corpus / "eval"
    (ev / "extra.jsonl").write_text("{}\n")
    with pytest.raises(FrozenDataError, match="extra.jsonl: file in the eval dir is not in"):
        verify_manifest(ev)
    (ev / "extra.jsonl").unlink()
    (ev / "heldout_issues.json").unlink()
    with pytest.raises(FrozenDataError, match="heldout_issues.json: frozen eval file is missing"):
        verify_manifest(ev)


def test_freeze_cli_regenerates(tiny_corpus, capsys):
    ev = tiny_corpus / "eval"
    (ev / "eval.jsonl").write_text((ev / "eval.jsonl").read_text() + "\n")
    assert freeze_main(["--eval-dir", str(ev), "--check"]) == 1
    assert freeze_main(["--eval-dir", str(ev)]) == 0
    assert freeze_main(["--eval-dir", str(ev), "--check"]) == 0
    assert "ok: 2 eval files" in capsys.readouterr().out


def test_missing_manifest_says_how(tmp_path):
    (tmp_path / "eval.jsonl").write_text("{}\n")
    with pytest.raises(FrozenDataError, match="python -m mighty.data.freeze"):
        verify_manifest(tmp_path)
    write_freeze_manifest(tmp_path)
    assert list(verify_manifest(tmp_path)) == [f"{tmp_path.name}/eval.jsonl"]
