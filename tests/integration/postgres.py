"""A real PostgreSQL server for the tests: Debian's binaries (`make postgres` installs them), a temporary
data directory, a free port on 127.0.0.1, password authentication over TCP; stopped and removed after."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from retail_lakehouse.runtime.local_process import free_port

USER = "lakehouse"
PASSWORD = "pg-test-password-5b1e"  # the tests hand it to configuration as a secret
SERVER_ACCOUNT = "postgres"  # initdb refuses root: as root, the server runs as Debian's postgres account


@dataclass(frozen=True)
class Postgres:
    port: int
    socket_dir: Path
    bin_dir: Path
    as_account: tuple[str, ...]

    def jdbc_url(self, database: str) -> str:
        return f"jdbc:postgresql://127.0.0.1:{self.port}/{database}"

    def psql(self, database: str, sql: str) -> str:
        """Runs SQL with psql (stops at the first error); returns what it printed."""
        done = subprocess.run(
            [
                *self.as_account,
                str(self.bin_dir / "psql"),
                *("-h", str(self.socket_dir), "-p", str(self.port), "-U", USER, "-d", database),
                *("-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t"),
            ],
            input=sql,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    assert found, "the PostgreSQL tests need Debian's postgresql package: `make postgres` installs it"
    return found[-1].parent


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    bin_dir = postgres_bin()
    as_root = os.geteuid() == 0
    as_account: tuple[str, ...] = ("runuser", "-u", SERVER_ACCOUNT, "--") if as_root else ()
    # Not under pytest's tmp_path: the server's account must be able to reach it.
    home = Path(tempfile.mkdtemp(prefix="lakehouse-pg-"))
    home.chmod(0o755)
    data, sockets, log = home / "data", home / "sockets", home / "server.log"
    sockets.mkdir()
    password_file = home / "password"
    password_file.write_text(PASSWORD, encoding="utf-8")
    if as_root:
        account = pwd.getpwnam(SERVER_ACCOUNT)
        for path in (home, sockets, password_file):
            os.chown(path, account.pw_uid, account.pw_gid)
    port = free_port()

    def run(*argv: str) -> None:
        done = subprocess.run([*as_account, *argv], capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{argv[0]} failed: {done.stderr or done.stdout}"

    try:
        run(
            str(bin_dir / "initdb"),
            *("-D", str(data), "-U", USER, f"--pwfile={password_file}"),
            *("--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-sync"),
        )
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start")
        try:
            yield Postgres(port, sockets, bin_dir, as_account)
        finally:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(home, ignore_errors=True)
