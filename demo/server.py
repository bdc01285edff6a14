"""`python -m demo.server [key=value ...]`: serve the demo with uvicorn (config: conf/serve.yaml).

SIGTERM/SIGINT stop accepting connections, let in-flight requests finish (up to
`shutdown_grace_s`), then drain the model queue and exit 0.
"""
from __future__ import annotations

import logging

import hydra
from omegaconf import DictConfig

from demo.config import ServeConfig, register_configs, to_dataclass

register_configs()


def serve(cfg: ServeConfig) -> None:
    import uvicorn

    from demo.app import create_app

    logging.basicConfig(level=cfg.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(cfg), host=cfg.host, port=cfg.port, log_level=cfg.log_level,
                timeout_graceful_shutdown=cfg.shutdown_grace_s,
                ws_max_size=cfg.limits.max_audio_bytes + 65_536, ws_ping_interval=20,
                access_log=False)


@hydra.main(version_base="1.3", config_path="../conf", config_name="serve")
def main(cfg: DictConfig) -> None:
    serve(to_dataclass(cfg))


if __name__ == "__main__":
    main()
