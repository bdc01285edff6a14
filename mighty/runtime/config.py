"""Config nodes → plain containers and validated dataclasses: the one way every stage and every
standalone entry point turns a composed config into the typed config it runs with."""
from __future__ import annotations

import dataclasses
from typing import Any

from omegaconf import OmegaConf


def plain(node: Any) -> Any:
    """Plain containers all the way down (dataclasses and config nodes, also inside dicts and
    lists): a typed node merged as is would bring its own schema and flags, and a key Hydra
    appended to it (`+kd.temprature=2`) would slip past the stage's schema."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return dataclasses.asdict(node)
    if OmegaConf.is_config(node):
        return OmegaConf.to_container(node, resolve=True)
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(plain(v) for v in node)
    return node


def typed(schema: type, *nodes: Any) -> Any:
    """`nodes` merged onto the dataclass `schema` and validated (every `__post_init__`): a
    field the nodes do not set takes the dataclass default, an unknown key fails."""
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), *map(plain, nodes)))
