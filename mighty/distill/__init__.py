"""Knowledge distillation: KD losses and per-token α (this namespace); the label cache
(`distill.cache`), the jitted step (`distill.step`) and the entry point (`python -m
distill.train`) live in their modules."""
from mighty.distill.alpha import (
    alpha_from_boost,
    boost_vocab_mask,
    lexicon_span_mask,
    token_alpha,
)
from mighty.distill.losses import (
    DIVERGENCES,
    forward_kl,
    generalized_jsd,
    kd_loss,
    reverse_kl,
    skew_forward_kl,
    skew_reverse_kl,
    soft_divergence,
)

__all__ = [
    "DIVERGENCES",
    "alpha_from_boost",
    "boost_vocab_mask",
    "forward_kl",
    "generalized_jsd",
    "kd_loss",
    "lexicon_span_mask",
    "reverse_kl",
    "skew_forward_kl",
    "skew_reverse_kl",
    "soft_divergence",
    "token_alpha",
]
