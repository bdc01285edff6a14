"""Named PRNG streams: one root key from the seed, one stream per purpose."""
from __future__ import annotations

import jax


class RngStreams:
    """`streams = RngStreams(seed, ("init", "data", "rollout"))`; `streams.at("rollout", step)`.

    Each stream is `fold_in(root, index_of_name)`, so adding a stream never shifts the others;
    per-step keys are `fold_in(stream, step)`, and across hosts `fold_in(…, process_index)`.
    """

    def __init__(self, seed: int, names: tuple[str, ...], process_index: int | None = None):
        root = jax.random.key(seed)
        if process_index is not None:
            root = jax.random.fold_in(root, process_index)
        self.names = tuple(names)
        self._streams = {n: jax.random.fold_in(root, i) for i, n in enumerate(self.names)}

    def __getitem__(self, name: str) -> jax.Array:
        if name not in self._streams:
            raise KeyError(f"unknown PRNG stream {name!r}; declared streams: {self.names}")
        return self._streams[name]

    def at(self, name: str, step: int) -> jax.Array:
        return jax.random.fold_in(self[name], step)
