"""Start a local Prefect server for the UI, bound to loopback unless the user says otherwise."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)


class ServerError(RuntimeError):
    """The Prefect server could not be started or reached."""


def is_loopback(host: str) -> bool:
    """Whether a host name or address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class PrefectServer:
    """A Prefect server running as a child process."""

    process: subprocess.Popen[bytes]
    api_url: str
    log_path: Path

    def stop(self) -> None:
        """Stop the server and wait for it to exit."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def wait_until_healthy(api_url: str, *, timeout: float = 90.0) -> None:
    """Poll the server's health endpoint until it answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise ServerError(f"The Prefect server at {api_url} did not become healthy in {timeout:.0f} s.")


def start_server(
    *, host: str = "127.0.0.1", port: int = 4200, home: Path, allow_remote: bool = False
) -> PrefectServer:
    """Start ``prefect server start`` with its own home folder (its SQLite database).

    Parameters
    ----------
    host, port
        Where the server listens. A host other than loopback needs ``allow_remote``: the
        UI shows run parameters and logs, which belong on this machine only.
    home
        ``PREFECT_HOME`` for the server: one database per home, so two servers never share
        one SQLite file.
    """
    if not is_loopback(host):
        if not allow_remote:
            raise ServerError(
                f"Refusing to bind the Prefect server to {host}: it is not a loopback address. "
                "Pass --allow-remote to expose the UI beyond this machine."
            )
        logger.warning("The Prefect server will listen on %s: reachable from other machines.", host)
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / "server.log"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_API_HOST": host,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_API_URL": f"http://{host}:{port}/api",
    }
    env.pop("PREFECT_API_URL", None)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                host,
                "--port",
                str(port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = PrefectServer(process, f"http://{host}:{port}/api", log_path)
    try:
        wait_until_healthy(server.api_url)
    except ServerError:
        server.stop()
        raise ServerError(f"The Prefect server did not start; see {log_path}.") from None
    return server
