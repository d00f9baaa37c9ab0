"""The standalone ``python -m bot.sandbox`` process answers real HTTP, as curl sees it."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(url: str) -> str:
    curl = shutil.which("curl")
    if curl is not None:
        done = subprocess.run([curl, "-s", url], capture_output=True, text=True, check=True)
        return done.stdout
    return httpx.get(url).text


def start(*args: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    # Output goes to a file: a pipe nobody reads would block the server once it fills up.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.sandbox", "--port", str(port), *args],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                output = log.read().decode("utf-8", "replace")
                raise AssertionError(f"sandbox exited with {process.returncode}: {output}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return process, port
            except OSError:
                time.sleep(0.05)
    stop(process)
    raise AssertionError("sandbox did not start listening")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def sandbox_process() -> Iterator[int]:
    process, port = start("--key", "demo", "--balance", "100", "--key", "second")
    try:
        yield port
    finally:
        stop(process)


@pytest.mark.e2e
def test_python_m_bot_sandbox_answers_curl(sandbox_process: int) -> None:
    base = f"127.0.0.1:{sandbox_process}/stubs/handler_api.php"
    if shutil.which("curl") is None:
        base = "http://" + base
    assert fetch(f"{base}?api_key=demo&action=getBalance") == "ACCESS_BALANCE:100.00"
    assert fetch(f"{base}?api_key=second&action=getBalance") == "ACCESS_BALANCE:100.00"
    assert fetch(f"{base}?api_key=other&action=getBalance") == "BAD_KEY"


@pytest.mark.e2e
def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    process, port = start("--key", "demo", "--balance", "10", "--state", str(state))
    url = f"http://127.0.0.1:{port}/stubs/handler_api.php"
    try:
        bought = httpx.get(url, params={"api_key": "demo", "action": "getNumber", "service": "tg"})
        assert bought.text.startswith("ACCESS_NUMBER:")
        activation_id = bought.text.split(":")[1]
    finally:
        stop(process)
    saved = json.loads(state.read_text(encoding="utf-8"))
    assert [a["id"] for a in saved["activations"]] == [int(activation_id)]

    process, port = start("--key", "demo", "--balance", "10", "--state", str(state))
    url = f"http://127.0.0.1:{port}/stubs/handler_api.php"
    try:
        got = httpx.get(
            url, params={"api_key": "demo", "action": "getStatus", "id": activation_id}
        )
        assert got.text == "STATUS_WAIT_CODE"
        balance = httpx.get(url, params={"api_key": "demo", "action": "getBalance"})
        left = Decimal(balance.text.removeprefix("ACCESS_BALANCE:"))
        assert left == Decimal(saved["accounts"][0]["balance"])
        assert left < Decimal(10)
    finally:
        stop(process)
