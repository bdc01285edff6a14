"""LoRA adapters out of Mighty: the PEFT format (`adapter_config.json` +
`adapter_model.safetensors`) that `peft.PeftModel.from_pretrained` loads onto the HF base, and
the HF base itself (adapters off, quantised kernels dequantised) for a QLoRA student.

The merged model goes out through `models.export_hf`, which merges adapters (W + s·A·B) first.
PEFT stores `lora_A.weight` `[r, in]` and `lora_B.weight` `[out, r]` (PyTorch `[out, in]`
order) under `base_model.model.<HF module path>`; its scaling is lora_alpha/r, or
lora_alpha/√r with `use_rslora`, the same s as ours.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import jax
import numpy as np

from mighty.models.lora import LoRAConfig, adapters, merge_lora, set_adapters

HF_MODULE = {"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj",
             "o": "self_attn.o_proj", "gate": "mlp.gate_proj", "up": "mlp.up_proj",
             "down": "mlp.down_proj"}
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


def peft_tensors(model) -> dict[str, np.ndarray]:
    """PEFT-named float32 arrays of every adapter of `model`."""
    out = {}
    for i, _, name, ad in adapters(model):
        a, b = (np.asarray(jax.device_get(x[...]), np.float32) for x in (ad.a, ad.b))
        r = a.shape[-1]
        prefix = f"base_model.model.model.layers.{i}.{HF_MODULE[name]}"
        out[f"{prefix}.lora_A.weight"] = np.ascontiguousarray(a.reshape(-1, r).T)  # (r, in)
        out[f"{prefix}.lora_B.weight"] = np.ascontiguousarray(b.reshape(r, -1).T)  # (out, r)
    return out


def peft_config(cfg: LoRAConfig, base_model: str | None = None) -> dict:
    return {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": cfg.rank, "lora_alpha": cfg.alpha,
            "lora_dropout": cfg.dropout, "use_rslora": cfg.rslora, "bias": "none",
            "target_modules": sorted(HF_MODULE[t].split(".")[-1] for t in cfg.targets),
            "fan_in_fan_out": False, "init_lora_weights": True, "inference_mode": True,
            "base_model_name_or_path": base_model, "modules_to_save": None}


def export_peft(model, out_dir: str | os.PathLike, cfg: LoRAConfig, *, base_model: str | None = None) -> Path:
    """Write the adapters of `model` as a PEFT LoRA adapter directory."""
    from safetensors.numpy import save_file

    tensors = peft_tensors(model)
    if not tensors:
        raise ValueError("export_peft: the model has no LoRA adapters (models.lora.apply_lora)")
    ranks = {t.shape[0] for n, t in tensors.items() if n.endswith("lora_A.weight")}
    if ranks != {cfg.rank}:
        raise ValueError(f"export_peft: adapters have rank {sorted(ranks)} but the config says r={cfg.rank}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / ADAPTER_CONFIG).write_text(json.dumps(peft_config(cfg, base_model), indent=1))
    save_file(tensors, str(out / ADAPTER_WEIGHTS), metadata={"format": "pt"})
    return out


def export_base_hf(model, tokenizer, out_dir: str | os.PathLike) -> Path:
    """The frozen base (adapters off; a QLoRA base dequantised) as an HF directory: the model
    a PEFT adapter from `export_peft` is loaded onto."""
    from mighty.models.checkpoint import export_hf

    set_adapters(model, False)
    try:
        base = merge_lora(model)
    finally:
        set_adapters(model, True)
    return export_hf(base, tokenizer, out_dir)


def load_peft(model, adapter_dir: str | os.PathLike, *, quant: str = "none", quant_block: int = 64):
    """Put the PEFT LoRA adapter in `adapter_dir` on `model` (a plain Transformer, in place;
    returns it): the inverse of `export_peft`, e.g. for an adapter trained with TRL + PEFT.
    `quant` stores the frozen base quantised (QLoRA). Unknown or missing tensors are errors."""
    from safetensors.numpy import load_file

    from mighty.models.lora import ALL_TARGETS, apply_lora

    path = Path(adapter_dir)
    if not (path / ADAPTER_CONFIG).is_file() or not (path / ADAPTER_WEIGHTS).is_file():
        raise FileNotFoundError(f"load_peft: {path} needs {ADAPTER_CONFIG} and {ADAPTER_WEIGHTS}")
    pc = json.loads((path / ADAPTER_CONFIG).read_text())
    by_hf = {v.split(".")[-1]: k for k, v in HF_MODULE.items()}
    targets = pc.get("target_modules") or []
    bad = [t for t in targets if t not in by_hf] if isinstance(targets, list) else [targets]
    if pc.get("peft_type") != "LORA" or bad or pc.get("bias", "none") != "none":
        raise ValueError(f"load_peft: {path / ADAPTER_CONFIG} is not a bias-free LoRA on "
                         f"{sorted(by_hf)} (peft_type={pc.get('peft_type')}, unknown targets {bad})")
    cfg = LoRAConfig(targets=[t for t in ALL_TARGETS if HF_MODULE[t].split(".")[-1] in targets],
                     rank=int(pc["r"]), alpha=float(pc["lora_alpha"]), dropout=float(pc.get("lora_dropout", 0)),
                     rslora=bool(pc.get("use_rslora", False)), quant=quant, quant_block=quant_block)
    apply_lora(model, cfg)
    tensors = load_file(str(path / ADAPTER_WEIGHTS))
    expected = set(peft_tensors(model))
    if set(tensors) != expected:
        raise ValueError(f"load_peft: {path / ADAPTER_WEIGHTS} does not match the model: missing "
                         f"{sorted(expected - set(tensors))[:4]}, unexpected {sorted(set(tensors) - expected)[:4]}")
    for i, _, name, ad in adapters(model):
        prefix = f"base_model.model.model.layers.{i}.{HF_MODULE[name]}"
        a, b = tensors[f"{prefix}.lora_A.weight"], tensors[f"{prefix}.lora_B.weight"]
        ad.a.set_value(jax.numpy.asarray(a.T.reshape(ad.a.shape), ad.a.dtype))
        ad.b.set_value(jax.numpy.asarray(b.T.reshape(ad.b.shape), ad.b.dtype))
    return model


def save_trained(model, out: str | os.PathLike, *, tokenizer, lora: LoRAConfig | None) -> dict | None:
    """Save a trained policy/student at `out` as a plain checkpoint every stage can load; a LoRA
    model is merged (W + s·A·B) and its adapters alone also go to `<out>_adapter` in PEFT format.
    -> the adapter record for the manifest (None without LoRA)."""
    from mighty.models.checkpoint import save_checkpoint
    from mighty.models.lora import count

    out = Path(out)
    record = None
    if lora is not None:
        record = {**count(model), "adapter": str(export_peft(model, out.parent / f"{out.name}_adapter", lora))}
        model = merge_lora(model)
    save_checkpoint(model, out, tokenizer=tokenizer, overwrite=True)
    return record
