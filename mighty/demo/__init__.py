"""Voice demo and serving layer: FastAPI app, STT, router, validator, streaming, web UI.

`python -m mighty.demo.server` serves it (config `mighty/conf/serve.yaml`); see docs/demo.md for the
endpoints and the WebSocket message schema. Model access goes through `demo.engine.Engine`.
"""
