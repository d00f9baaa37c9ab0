"""Real processes for end-to-end tests: the bot (and later workers), on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class BotProcess:
    """``python -m <module>`` with a clean environment; its log lands in ``log_path``."""

    def __init__(self, env: dict[str, str], log_path: Path, module: str = "bot") -> None:
        self.env = env
        self.log_path = log_path
        self.module = module
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        log = self.log_path.open("ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                self.module,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        finally:
            log.close()

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        process = self.process
        if process is None:
            return 0
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                process.kill()
                await process.wait()
                raise AssertionError(f"{self.module} ignored SIGTERM; log:\n{self.log}") from None
        return process.returncode if process.returncode is not None else 0

    def kill_sync(self) -> None:
        """Last-resort cleanup from a sync fixture teardown."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
