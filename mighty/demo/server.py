"""`python -m mighty.demo.server [--config conf/serve.yaml] [key=value ...]`: serve the demo with uvicorn.

Overrides use dotted keys of `demo.config.ServeConfig`, e.g. `port=9000 student=<ckpt dir>
engine.max_new_tokens=96`. SIGTERM/SIGINT stop accepting connections, let in-flight requests
finish (up to `shutdown_grace_s`), then drain the model queue and exit (uvicorn re-raises the
signal afterwards, so a supervisor sees it).
"""
from __future__ import annotations

import argparse
import logging
import sys

from mighty.demo.config import DEFAULT_CONFIG, ServeConfig, load_config


def serve(cfg: ServeConfig) -> None:
    import uvicorn

    from mighty.demo.app import create_app

    # force: an import may already have given the root logger a handler (absl does, when orbax
    # logs at import), and basicConfig would then keep its WARNING level and drop ours
    logging.basicConfig(level=cfg.log_level.upper(), force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(cfg), host=cfg.host, port=cfg.port, log_level=cfg.log_level,
                timeout_graceful_shutdown=cfg.shutdown_grace_s,
                ws_max_size=cfg.limits.max_audio_bytes + 65_536, ws_ping_interval=20,
                access_log=False)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m mighty.demo.server", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(DEFAULT_CONFIG), help="YAML config (default: %(default)s)")
    ap.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    ap.add_argument("overrides", nargs="*", metavar="key=value")
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.config, args.overrides)
    except Exception as e:  # omegaconf/validation errors name the key; no traceback needed
        sys.exit(f"demo.server: bad config: {e}")
    if args.print_config:
        from omegaconf import OmegaConf

        print(OmegaConf.to_yaml(OmegaConf.structured(cfg)))
        return
    serve(cfg)


if __name__ == "__main__":
    main()
