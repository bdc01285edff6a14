"""The training core KD, GRPO and every later trainer share: one optimizer config and builder,
one train-state layout, gradient accumulation over microbatches in `lax.scan`, and one rule
for reducing per-microbatch metrics. Stages own their losses; this owns what a step does with
their gradients."""
from mighty.training.accumulate import accumulate_grads, reduce_metrics
from mighty.training.optim import OptimConfig, decay_mask, init_state, lr_schedule, make_optimizer
from mighty.training.state import bind_rest, merge_states

__all__ = ["OptimConfig", "accumulate_grads", "bind_rest", "decay_mask", "init_state", "lr_schedule",
           "make_optimizer", "merge_states", "reduce_metrics"]
