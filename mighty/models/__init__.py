"""Models: config, Flax NNX decoder, loading (HF / GGUF / packaged), tokenizer, sampler, checkpoints.

The names below are the contract other packages code against (docs/CONTRACTS.md).
"""
from mighty.models.checkpoint import export_hf, load_checkpoint, save_checkpoint
from mighty.models.config import ModelConfig
from mighty.models.hf_weights import CheckpointError
from mighty.models.layers import KVCache
from mighty.models.loading import PACKAGED_MODELS, load_pretrained, packaged_model_path
from mighty.models.sampler import SampleOutput, generate, sample_logits
from mighty.models.sharding import DEFAULT_RULES, logical_to_mesh_spec, param_shardings, shard_model
from mighty.models.tokenizer import Tokenizer, bucket_length
from mighty.models.transformer import (Transformer, chunked_logprobs, default_positions, token_logprobs,
                                with_compute_dtype, with_dtype)

__all__ = [
    "CheckpointError", "DEFAULT_RULES", "KVCache", "ModelConfig", "PACKAGED_MODELS", "SampleOutput",
    "Tokenizer", "Transformer", "bucket_length", "chunked_logprobs", "default_positions",
    "export_hf", "generate", "load_checkpoint", "load_pretrained", "logical_to_mesh_spec",
    "packaged_model_path", "param_shardings", "sample_logits", "save_checkpoint", "shard_model",
    "token_logprobs", "with_compute_dtype", "with_dtype",
]
