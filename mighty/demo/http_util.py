"""HTTP plumbing shared by the routes: one JSON error shape, bounded body reads, client keys."""
from __future__ import annotations

import json
import unicodedata

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError


class ApiError(Exception):
    """Rendered as `{"error": {"code", "message", "type"}}` with `status` (and `headers`)."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
               405: "invalid_request_error", 413: "invalid_request_error",
               415: "invalid_request_error", 422: "invalid_request_error",
               429: "rate_limit_error", 503: "overloaded_error"}


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message,
                      "type": ERROR_TYPES.get(status, "server_error")}}
    return JSONResponse(body, status_code=status, headers=headers)


def client_key(request_or_ws, header: str | None) -> str:
    if header:
        v = request_or_ws.headers.get(header)
        if v:
            return f"h:{v[:128]}"
    c = request_or_ws.client
    return f"ip:{c.host if c else 'unknown'}"


async def read_body(request: Request, limit: int, what: str = "request body") -> bytes:
    """The body, refusing (413) before reading more than `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise ApiError(413, "payload_too_large",
                               f"{what} is {int(declared)} bytes; the limit is {limit} bytes")
        except ValueError:
            raise ApiError(400, "bad_content_length", "Content-Length is not an integer") from None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "payload_too_large", f"{what} exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def describe_validation(e: ValidationError) -> str:
    parts = []
    for err in e.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ())) or "body"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def parse_json(raw: bytes | str):
    """JSON text -> Python value, with every way a hostile body can break `json.loads` (or what
    reads its strings later) turned into a 400 `invalid_json`: bad syntax or UTF-8, nesting deep
    enough to exhaust the recursion limit, integers past Python's 4,300-digit conversion
    limit, and lone surrogates (`"\\ud800"`), which json accepts but no tokenizer can encode."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ApiError(400, "invalid_json", "JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError and the int-digits limit
        raise ApiError(400, "invalid_json", f"body is not valid JSON: {str(e)[:200]}") from None
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, "invalid_json", "a string holds a lone UTF-16 surrogate (like "
                       "\\ud800); send valid Unicode") from None
    return data


def visible_text(text: str) -> str:
    """`text` stripped; empty when it holds only whitespace and invisible format or control
    characters (zero-width spaces, joiners, BOM), which no model can answer."""
    text = text.strip()
    if all(c.isspace() or unicodedata.category(c) in ("Cf", "Cc") for c in text):
        return ""
    return text


async def read_model(request: Request, model: type[BaseModel], limit: int) -> BaseModel:
    ctype = request.headers.get("content-type", "")
    if "json" not in ctype.lower():
        raise ApiError(415, "unsupported_media_type",
                       f"send JSON with Content-Type: application/json (got {ctype or 'none'!r})")
    data = parse_json(await read_body(request, limit))
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_body", f"body must be a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ApiError(422, "invalid_body", describe_validation(e)) from None


def wait_until_serving(proc, url: str, timeout: float, *, path: str = "/healthz",
                       interval: float = 1.0, log_tail=lambda: "") -> None:
    """Poll `url + path` until it answers 200 while the server subprocess `proc` lives (for the
    tests and benchmarks that start a server). Raises RuntimeError when the process exits first,
    TimeoutError after `timeout` seconds; both carry `log_tail()`, the server's last log lines."""
    import time

    import httpx

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}\n{log_tail()}")
        try:
            if httpx.get(url + path, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(interval)
    raise TimeoutError(f"{url} did not answer {path} within {timeout:.0f} s\n{log_tail()}")
