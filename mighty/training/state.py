"""A model's state split for training: the trainable leaves in the donated train state, the
frozen rest (a LoRA student's base) passed to every program as an argument."""
from __future__ import annotations

import functools

from flax import nnx


def bind_rest(jitted, rest):
    """`jitted(*args, rest=rest)` as a function of `args` alone, with `.lower` for AOT planning.
    `rest` goes in as an argument: closed over, XLA would embed every frozen weight in the
    program as a constant. With nothing frozen (`rest=None`) the jitted function itself."""
    if rest is None:
        return jitted
    fn = functools.partial(jitted, rest=rest)
    fn.lower = functools.partial(jitted.lower, rest=rest)
    return fn


def merge_states(graphdef, params):
    """The module from `graphdef` and `params`: one state, or a tuple of states (trainable,
    frozen) as a LoRA policy carries them."""
    return nnx.merge(graphdef, *params) if isinstance(params, tuple) else nnx.merge(graphdef, params)
