"""SIGTERM with a request in flight: the request completes, then the server shuts down.

Stops the shared server, so conftest orders it last."""
import signal
import threading
import time

import httpx
import pytest

pytestmark = pytest.mark.slow


def test_graceful_shutdown_finishes_in_flight_request(server):
    result = {}

    def ask():
        with httpx.Client(base_url=server.url, timeout=600, headers={"X-Client-Id": "shutdown"}) as c:
            result["r"] = c.post("/ask", json={"question": "my soundbar has no sound from the tv"})

    t = threading.Thread(target=ask)
    t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the question reached the model
        q = httpx.get(server.url + "/healthz", timeout=5).json()["queue"]["student"]
        if q["active_batches"] or q["queued"]:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the request never reached the model queue")
    code = server.terminate(timeout=300)
    t.join(timeout=300)
    assert "r" in result, "in-flight request did not return"
    assert result["r"].status_code == 200 and result["r"].json()["answer"], result["r"].text
    # uvicorn re-raises the signal after its graceful shutdown, so supervisors see SIGTERM
    assert code in (0, -signal.SIGTERM), server.log_tail()
    log = server.log_path.read_text()
    assert "Waiting for connections to close" in log or "Shutting down" in log
    assert "shut down cleanly" in log and "Traceback" not in log
    with pytest.raises(httpx.ConnectError):  # and it is really gone
        httpx.get(server.url + "/healthz", timeout=2)
