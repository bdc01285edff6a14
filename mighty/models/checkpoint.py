"""Orbax checkpoints of our model, and export to a transformers-loadable HF directory.

A checkpoint directory holds `mighty_config.json` (the ModelConfig), `state/` (orbax) and
optionally `tokenizer/`; it restores with nothing but itself.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import jax
from flax import nnx

from mighty.models.config import ModelConfig
from mighty.models.transformer import Transformer, with_dtype

CONFIG_FILE = "mighty_config.json"


def is_checkpoint_dir(path: str | os.PathLike) -> bool:
    return (Path(path) / CONFIG_FILE).is_file() and (Path(path) / "state").is_dir()


def save_checkpoint(model: Transformer, path: str | os.PathLike, *, tokenizer=None, overwrite: bool = False):
    """Write atomically: everything goes to a temporary sibling, then one rename. A LoRA model
    is saved merged (a plain model; `models.export.export_peft` writes the adapters alone)."""
    import orbax.checkpoint as ocp

    from mighty.models.lora import has_lora, merge_lora

    if has_lora(model):
        model = merge_lora(model)

    path = Path(path).absolute()
    if path.exists() and not overwrite:
        raise FileExistsError(f"save_checkpoint: {path} exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp-"))
    try:
        (tmp / CONFIG_FILE).write_text(json.dumps(model.cfg.to_dict(), indent=1))
        with ocp.StandardCheckpointer() as ckptr:
            ckptr.save(tmp / "state", nnx.to_pure_dict(nnx.state(model, nnx.Param)))
            ckptr.wait_until_finished()
        if tokenizer is not None:
            tokenizer.save(tmp / "tokenizer")
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def load_checkpoint(path: str | os.PathLike, *, dtype: str | None = None,
                    compute_dtype: str | None = None, mesh=None, rules=None) -> Transformer:
    """Restore a model saved by save_checkpoint; dtype overrides the saved param dtype.

    With a `mesh`, orbax reads each parameter straight into its shards (by `rules`, default
    `models.sharding.DEFAULT_RULES`); on many processes each reads only its own.
    """
    import orbax.checkpoint as ocp
    from mighty.models.hf_weights import abstract_model
    from mighty.models.mesh import params_shardings
    from mighty.models.sharding import DEFAULT_RULES

    path = Path(path).absolute()
    if not is_checkpoint_dir(path):
        raise FileNotFoundError(f"load_checkpoint: {path} has no {CONFIG_FILE} + state/; "
                                f"was it written by models.save_checkpoint?")
    cfg = ModelConfig.from_dict(json.loads((path / CONFIG_FILE).read_text()))
    saved = cfg
    if dtype:
        cfg = cfg.replace(param_dtype=dtype, dtype=compute_dtype or dtype)
    model = abstract_model(saved)
    graphdef, abstract_state = nnx.split(model, nnx.Param)
    target = nnx.to_pure_dict(abstract_state)
    if mesh is not None:
        target = jax.tree.map(lambda x, sh: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sh), target,
                              params_shardings(abstract_state, mesh, rules or DEFAULT_RULES))
    with ocp.StandardCheckpointer() as ckptr:
        restored = ckptr.restore(path / "state", target)
    nnx.replace_by_pure_dict(abstract_state, restored)
    model = nnx.merge(graphdef, abstract_state)
    if cfg != saved:
        model = with_dtype(model, cfg.param_dtype, cfg.dtype)
    return model


def export_hf(model: Transformer, tokenizer, out_dir: str | os.PathLike, *, max_shard_size: str = "2GB"):
    """Write `config.json` + safetensors (+ tokenizer) for `AutoModelForCausalLM.from_pretrained`.

    Weights are written in float32 whatever the param dtype, so the export is lossless. A LoRA
    model is merged first (W + s·A·B, a quantised base dequantised; models/lora.py); its
    adapters alone go out with `models.export.export_peft`.
    """
    from huggingface_hub import split_state_dict_into_shards_factory  # ships with transformers
    from safetensors.numpy import save_file

    from mighty.models.hf_weights import hf_tensors_from_model

    from mighty.models.lora import has_lora, merge_lora

    if has_lora(model):
        model = merge_lora(model)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = hf_tensors_from_model(model)
    hf_cfg = model.cfg.to_hf_dict()
    hf_cfg["dtype"] = "float32"
    (out / "config.json").write_text(json.dumps(hf_cfg, indent=1))
    split = split_state_dict_into_shards_factory(
        tensors, get_storage_size=lambda a: a.nbytes, max_shard_size=max_shard_size,
        filename_pattern="model{suffix}.safetensors")
    for filename, names in split.filename_to_tensors.items():
        save_file({n: tensors[n] for n in names}, str(out / filename), metadata={"format": "pt"})
    if split.is_sharded:
        index = {"metadata": {}, "weight_map": split.tensor_to_filename}
        (out / "model.safetensors.index.json").write_text(json.dumps(index, indent=1))
    gen = {"bos_token_id": model.cfg.bos_id, "eos_token_id": model.cfg.eos_id,
           "pad_token_id": model.cfg.pad_id}
    (out / "generation_config.json").write_text(json.dumps(gen, indent=1))
    if tokenizer is not None:
        tokenizer.save(out)
    return out
