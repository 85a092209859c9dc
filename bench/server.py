"""Starting `dossier serve` in a subprocess, timing it to ready, and watching its memory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dossier_command() -> list[str]:
    script = Path(sys.executable).with_name("dossier")
    return (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from app.cli import main; main()"]
    )


def compile_app() -> None:
    """Bytecode for the app's modules, as a deployment has it (the Dockerfile and `make run`
    compile them): where PYTHONDONTWRITEBYTECODE is set, every start would otherwise compile
    them from source, ~0.2 s of the time to ready."""
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "app"), quiet=1)


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except (FileNotFoundError, PermissionError):
            continue
        for child in children:
            found.append(int(child))
            found.extend(_descendants(int(child)))
    return found


class Server:
    """`dossier serve` on a free 127.0.0.1 port with the given environment settings."""

    def __init__(self, name: str, env: dict[str, str], workers: int, log_dir: Path) -> None:
        self.name = name
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"server-{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.ready_seconds = 0.0
        self.peak_process_kb = 0  # the largest single process (a worker)
        self.peak_total_kb = 0  # master and workers together
        self._sampling = threading.Event()
        self._sampler: threading.Thread | None = None
        self._log: IO[bytes] | None = None

    def start(self, timeout: float = 60) -> float:
        """Start the server; returns the seconds from spawn to the first 200 from /readyz."""
        env = {**os.environ, **self.env}
        compile_app()
        self._log = self.log_path.open("wb")
        command = [
            *_dossier_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        started = time.perf_counter()
        self.process = subprocess.Popen(
            command, env=env, cwd=self.log_path.parent, stdout=self._log, stderr=subprocess.STDOUT
        )
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server '{self.name}' exited ({self.process.returncode}); see {self.log_path}"
                )
            if self.status("/readyz") == 200:
                self.ready_seconds = time.perf_counter() - started
                self._start_sampling()
                return self.ready_seconds
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"server '{self.name}' not ready after {timeout} s; see {self.log_path}")

    def status(self, path: str) -> int | None:
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None

    def _start_sampling(self) -> None:
        self._sampling.set()
        self._sampler = threading.Thread(target=self._sample, name=f"rss-{self.name}", daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        assert self.process is not None
        while self._sampling.is_set():
            pids = [self.process.pid, *_descendants(self.process.pid)]
            sizes = [_rss_kb(pid) for pid in pids]
            self.peak_process_kb = max(self.peak_process_kb, *sizes)
            self.peak_total_kb = max(self.peak_total_kb, sum(sizes))
            time.sleep(0.2)

    def stop(self) -> None:
        self._sampling.clear()
        if self._sampler is not None:
            self._sampler.join()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully on SIGINT
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
