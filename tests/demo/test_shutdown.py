"""SIGTERM with a request in flight: the request completes, the process exits 0.

Stops the shared server, so conftest orders it last."""
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
    assert code == 0, server.log_tail()
    log = server.log_path.read_text()
    assert "shut down cleanly" in log
    with pytest.raises(httpx.ConnectError):  # and it is really gone
        httpx.get(server.url + "/healthz", timeout=2)
