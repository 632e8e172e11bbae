"""A private MariaDB server per profile: its own data directory, socket and port, started detached and
reused while it runs. The app connects over TCP as ``executioner``; devstack administers it as the OS user
through the unix socket (MariaDB's ``unix_socket`` authentication), so no admin password exists.

Worker containers connect too, read-only, as ``executioner_worker`` (they look up whether a job already
finished): so the server listens on the Docker bridge gateway as well as on 127.0.0.1, and on nothing else.
"""

import getpass
import hashlib
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from devstack import processes
from devstack.console import DevstackError, say
from devstack.profile import Profile
from devstack.system import require_command

APP_USER = "executioner"
APP_DATABASE = "executioner"
WORKER_USER = "executioner_worker"
WORKER_DATABASES = "executioner%"
"""The databases workers may read (a pattern): the app's and those the tests create (``executioner_e2e_*``,
``executioner_admin_*``, ...)."""
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0
_DATABASE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes


class MariaDB:
    """The MariaDB server of one profile (data in ``<state>/mariadb``)."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.port = profile.mysql_port
        self.home = profile.path("mariadb")
        self.datadir = self.home / "data"
        self.socket = _socket_path(self.home)
        self.pid_file = self.home / "server.pid"
        self.log_file = self.home / "server.log"
        self.password_file = self.home / "app-password"
        self.worker_password_file = self.home / "worker-password"
        self.bind_file = self.home / "bind-address"
        """The addresses the running server was started on."""
        self.started = False
        """Whether the last :meth:`ensure` started the server (False: it was already running)."""

    def ensure(self, container_host: str) -> str:
        """Start the server unless it already runs on 127.0.0.1 and ``container_host`` (the host's address
        as containers see it, the Docker bridge gateway), make sure the users and the app's database exist,
        and return the app's SQLAlchemy URL."""
        self.started = False
        bind = ",".join(dict.fromkeys(["127.0.0.1", container_host]))
        if processes.running_pid(self.pid_file) is not None and self._read_bind() != bind:
            say("mysql: listening addresses changed (Docker bridge address?), restarting the server")
            self.stop()
        if processes.running_pid(self.pid_file) is None:
            for host in bind.split(","):
                processes.require_free_port(
                    host,
                    self.port,
                    owner="MariaDB",
                    variable=f"EXECUTIONER_{self.profile.name.upper()}_MYSQL_PORT",
                )
            self._start(bind)
            self.started = True
        # Also when reusing: another command may have started it a moment ago.
        processes.wait_until(
            self._answers,
            timeout=START_TIMEOUT_S,
            what=f"MariaDB on 127.0.0.1:{self.port}",
            alive=lambda: processes.running_pid(self.pid_file) is not None,
            log_file=self.log_file,
        )
        self._provision()
        return self.url()

    def stop(self) -> bool:
        """Shut the server down cleanly (data is kept). Returns whether it was running."""
        return processes.stop(self.pid_file, timeout=STOP_TIMEOUT_S)

    def url(self, database: str = APP_DATABASE) -> str:
        """The SQLAlchemy URL of ``database`` for the app user."""
        return f"mysql+asyncmy://{APP_USER}:{self._password()}@127.0.0.1:{self.port}/{database}"

    def worker_url(self, database: str = APP_DATABASE, host: str = "127.0.0.1") -> str:
        """The URL of ``database`` for the workers' read-only user, reached at ``host`` (the Docker bridge
        gateway for worker containers)."""
        password = self._secret(self.worker_password_file)
        return f"mysql+asyncmy://{WORKER_USER}:{password}@{host}:{self.port}/{_checked(database)}"

    def create_database(self, name: str) -> str:
        """Create the (empty) database ``name`` if it does not exist; returns its URL."""
        self.sql(f"CREATE DATABASE IF NOT EXISTS `{_checked(name)}` CHARACTER SET utf8mb4")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop the database ``name`` if it exists."""
        self.sql(f"DROP DATABASE IF EXISTS `{_checked(name)}`")

    def sql(self, statements: str) -> str:
        """Run ``statements`` as the administrator; returns the output (tab-separated, no headers)."""
        done = self._client(statements)
        if done.returncode != 0:
            raise DevstackError(f"MariaDB on port {self.port}: {done.stderr.strip()}")
        return done.stdout

    def _client(self, statements: str) -> subprocess.CompletedProcess[str]:
        admin = "root" if os.geteuid() == 0 else getpass.getuser()
        argv = [require_command("mariadb"), "--no-defaults", f"--socket={self.socket}", f"--user={admin}"]
        argv += ["--batch", "--skip-column-names", "--connect-timeout=2", "--execute", statements]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)

    def _answers(self) -> bool:
        return self.socket.exists() and self._client("SELECT 1").returncode == 0

    def _read_bind(self) -> str | None:
        try:
            return self.bind_file.read_text().strip()
        except OSError:
            return None

    def _start(self, bind: str) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.bind_file.write_text(bind)
        user = self._server_user()
        if not (self.datadir / "mysql").is_dir():
            self._install(user)
        if user not in (None, "root"):
            # The server writes its socket, pid file and error log next to the data directory.
            shutil.chown(self.home, user=user)
        argv = [
            require_command("mariadbd"),
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--bind-address={bind}",  # MariaDB 10.11 takes a comma-separated list
            f"--port={self.port}",
            f"--socket={self.socket}",
            f"--pid-file={self.home / 'mariadbd.pid'}",
            f"--log-error={self.home / 'error.log'}",
            "--skip-log-bin",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
        ]
        if user is not None:
            argv.append(f"--user={user}")
        processes.start_detached(argv, pid_file=self.pid_file, log_file=self.log_file)

    def _install(self, user: str | None) -> None:
        """Create the system tables (once per state directory)."""
        shutil.rmtree(self.datadir, ignore_errors=True)  # a half-initialised one from an interrupted run
        argv = [
            require_command("mariadb-install-db"),
            "--no-defaults",
            f"--datadir={self.datadir}",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
        ]
        if user is not None:
            argv.append(f"--user={user}")
        else:
            argv.append(f"--auth-root-socket-user={getpass.getuser()}")
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
            raise DevstackError(f"mariadb-install-db failed for {self.datadir}:\n{tail}")

    def _server_user(self) -> str | None:
        """The OS user the server runs as: ``mysql`` when we are root and it can reach the data directory
        (a checkout under /root cannot be reached), else ``root``; None when we are not root."""
        if os.geteuid() != 0:
            return None
        try:
            mysql = pwd.getpwnam("mysql")
        except KeyError:
            return "root"
        return "mysql" if _can_traverse(self.home.parent, mysql.pw_uid, mysql.pw_gid) else "root"

    def _provision(self) -> None:
        """The app user (allowed to create databases: the tests make one per session) and its database;
        the workers' user, which may only read (from any address: the server listens on 127.0.0.1 and the
        Docker bridge only)."""
        password = self._password()
        statements = []
        for host in ("127.0.0.1", "localhost"):
            account = f"'{APP_USER}'@'{host}'"
            statements += [
                f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{password}'",
                f"ALTER USER {account} IDENTIFIED BY '{password}'",
                f"GRANT ALL PRIVILEGES ON *.* TO {account}",
            ]
        worker = f"'{WORKER_USER}'@'%'"
        worker_password = self._secret(self.worker_password_file)
        statements += [
            f"CREATE USER IF NOT EXISTS {worker} IDENTIFIED BY '{worker_password}'",
            f"ALTER USER {worker} IDENTIFIED BY '{worker_password}'",
            f"GRANT SELECT ON `{WORKER_DATABASES}`.* TO {worker}",
            f"CREATE DATABASE IF NOT EXISTS `{APP_DATABASE}` CHARACTER SET utf8mb4",
        ]
        self.sql(";\n".join(statements))

    def _password(self) -> str:
        """The app user's password."""
        return self._secret(self.password_file)

    def _secret(self, path: Path) -> str:
        """A password kept in ``path``: random, made once per state directory, readable only by us."""
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(18))  # URL-safe: it goes into the SQLAlchemy URL as is
        return path.read_text().strip()


def _checked(name: str) -> str:
    if not _DATABASE_NAME.fullmatch(name):
        raise DevstackError(f"invalid database name {name!r}: use letters, digits and _ (at most 64)")
    return name


def _socket_path(home: Path) -> Path:
    """``<home>/mariadbd.sock``, or a short path in the temp dir when that is too long for a socket."""
    path = home / "mariadbd.sock"
    if len(os.fsencode(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(os.fsencode(home)).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"executioner-mariadb-{digest}.sock"


def _can_traverse(directory: Path, uid: int, gid: int) -> bool:
    """Whether the user ``uid`` (primary group ``gid``) may enter ``directory`` and all its parents."""
    for path in [directory.resolve(), *directory.resolve().parents]:
        info = path.stat()
        if info.st_uid == uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid == gid:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return False
    return True
