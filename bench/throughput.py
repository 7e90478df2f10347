#!/usr/bin/env python
"""Requests per second on a logged-in page under gunicorn, against a trivial view as the ceiling.

Starts gunicorn as production runs it (``gunicorn.conf.py``, ``DJANGO_DEBUG=false``) with 2
workers on a free loopback port, in the database this process is connected to, with the
bench-only settings ``bench.settings`` (production's plus the trivial view ``/bench/trivial/``).
It logs the user in by creating a session directly, checks that the page answers 200 with it and
really is the signed-in page, warms both paths up, then loads the trivial view and the page in
turn with wrk (same duration, same connections) and reports requests per second, latencies and
the page / trivial ratio. Issue #8's target: the opportunity list at ≥ 40 % of the ceiling.

The page is loaded twice: as production serves it, where every request after the first is
answered from the pages kept per database snapshot (``crm/page_cache.py``; nothing is written
during the run), and then from a second server with that cache off (``JIHUI_PAGE_CACHE_BYTES=0``),
where every request renders it: what a page costs when something changed since the last load.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jihui_bench \\
        .venv/bin/python bench/throughput.py --user bench_rep_001 --duration 10

PostgreSQL only. wrk is Debian's package: installed when missing if this user may (root with
apt-get), otherwise the run stops and says so. Any response other than 200 — wrk's error count,
a socket error, or a status in gunicorn's access log — fails the run rather than counting as
throughput.
"""

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

TRIVIAL_PATH = "/bench/trivial/"
WORKERS = 2
# Sync workers serve one request at a time and close the connection after each response, so
# with one connection per worker a worker idles while wrk reconnects and sends the next request.
# Four per worker keep a request waiting in the listen backlog for each worker at all times;
# more only lengthen that queue (latency grows, requests per second do not).
CONNECTIONS = 8
WARM_UP_SECONDS = 2
HOST = "127.0.0.1"
TARGET_RATIO = 0.40


class BenchError(RuntimeError):
    """The measurement could not be made, or would not be honest (errors under load)."""


class WrkUnavailable(BenchError):
    """wrk is not installed and this user cannot install it."""


# --- wrk --------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """The path of wrk, installed from Debian's package first when missing and this user may
    (root with apt-get), as bin/setup.sh's ensure_chromium does for Chromium."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise WrkUnavailable("wrk is not installed and this user cannot install it: sudo apt-get install wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    # Try without refreshing the package lists first: on a machine that has them it is faster.
    for commands in ([install], [["apt-get", "update", "-q"], install]):
        log = []
        for command in commands:
            result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)  # noqa: S603
            log.append(result.stdout + result.stderr)
            if result.returncode != 0:
                break
        else:
            found = shutil.which("wrk")
            if found:
                return found
    tail = "\n".join("".join(log).splitlines()[-20:])
    raise WrkUnavailable(f"wrk could not be installed (apt-get install wrk):\n{tail}")


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


def parse_wrk_output(output: str) -> dict:
    """Requests/sec, request count, latencies (ms) and error counts from ``wrk --latency``."""

    def ms(match: re.Match, group: int = 1) -> float:
        return round(float(match.group(group)) * _UNIT_MS[match.group(group + 1)], 3)

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    requests = re.search(rf"^\s*(\d+) requests in {_DURATION}", output, re.MULTILINE)
    average = re.search(rf"^\s*Latency\s+{_DURATION}\s+{_DURATION}\s+{_DURATION}", output, re.MULTILINE)
    if not (rps and requests and average):
        raise BenchError(f"cannot read wrk's output:\n{output}")
    latency = {"avg": ms(average), "max": ms(average, 5)}
    for match in re.finditer(rf"^\s*(50|75|90|99)(?:\.0+)?%\s+{_DURATION}", output, re.MULTILINE):
        latency[f"p{match.group(1)}"] = ms(match, 2)
    if not {"p50", "p90", "p99"} <= latency.keys():
        raise BenchError(f"wrk printed no latency distribution (--latency):\n{output}")
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx_3xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(rps.group(1)),
        "requests": int(requests.group(1)),
        "latency_ms": latency,
        "socket_errors": dict(
            zip(
                ("connect", "read", "write", "timeout"),
                map(int, sockets.groups()) if sockets else (0,) * 4,
                strict=True,
            )
        ),
        "non_2xx_3xx": int(non_2xx_3xx.group(1)) if non_2xx_3xx else 0,
    }


def run_wrk(wrk: str, *, url: str, headers: dict[str, str], duration: int, connections: int, threads: int) -> dict:
    """One wrk run; errors (a response other than 2xx/3xx, a socket error) fail it."""
    command = [wrk, f"--threads={threads}", f"--connections={connections}", f"--duration={duration}s", "--latency"]
    # A slow page is measured, not dropped: wrk's default 2 s timeout would turn it into errors.
    command.append("--timeout=30s")
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    result = subprocess.run(  # noqa: S603 - wrk with our own arguments
        [*command, url], capture_output=True, text=True, timeout=duration + 60
    )
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    parsed = parse_wrk_output(result.stdout)
    errors = {kind: count for kind, count in parsed["socket_errors"].items() if count}
    if parsed["non_2xx_3xx"] or errors:
        raise BenchError(
            f"{url} answered errors under load ({parsed['non_2xx_3xx']} non-2xx/3xx responses, "
            f"socket errors {errors or 'none'}): not a throughput figure\n{result.stdout}"
        )
    return parsed


def drain(run: dict) -> None:
    """Wait for the requests wrk left behind. It stops with up to ``connections`` requests
    queued in gunicorn's listen backlog, and the workers serve them after it has gone: the next
    run would start behind them (a page's backlog measured as the trivial view's slowness). Each
    of them waits behind at most that queue, so they are done within about the longest latency
    wrk saw."""
    time.sleep(min(run["latency_ms"]["max"] / 1000 * 1.5 + 0.2, 120))


# --- the server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    """The URL of the database this process uses (under pytest, the test database), so that the
    server reads the session written here."""
    from django.db import connection

    if connection.vendor != "postgresql":
        raise BenchError(f"the throughput benchmark needs PostgreSQL, not {connection.vendor}")
    params = connection.settings_dict
    credentials = quote(params["USER"] or "", safe="")
    if params["PASSWORD"]:
        credentials += ":" + quote(params["PASSWORD"], safe="")
    host = params["HOST"] or ""  # none: libpq's default Unix socket, as in this process
    host = quote(host, safe="") if host.startswith("/") else host  # a Unix socket's folder
    port = f":{params['PORT']}" if params["PORT"] else ""
    options = {key: value for key, value in (params.get("OPTIONS") or {}).items() if isinstance(value, str | int)}
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{credentials}@{host}{port}/{quote(params['NAME'], safe='')}{query}"


def _server_environment(*, workdir: Path) -> dict[str, str]:
    """Production settings (debug off, HTTPS on) with bench.settings, in this process's database,
    signing with this process's secret key (the session written here must be readable there)."""
    from django.conf import settings

    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SECURE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        DJANGO_ALLOWED_HOSTS=HOST,
        DATABASE_URL=_database_url(),
        JIHUI_VAR_DIR=str(workdir / "var"),
        JIHUI_BENCH_STATIC_ROOT=str(workdir / "static"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _log_tail(*paths: Path, lines: int = 30) -> str:
    text = "".join(path.read_text(errors="replace") for path in paths if path.exists())
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def gunicorn_server(
    *, env: dict[str, str], workdir: Path, headers: dict[str, str], echo, name: str = "gunicorn"
) -> Iterator[int]:
    """gunicorn with production's gunicorn.conf.py and 2 workers on a free loopback port; yields
    the port once it answers, and stops it — master and workers — whatever happens. Its logs are
    ``<name>.log``, ``<name>.out`` and ``<name>-access.log`` in ``workdir``."""
    error_log, output = workdir / f"{name}.log", workdir / f"{name}.out"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    port = _free_port()
    command = [
        str(gunicorn),
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        f"--bind={HOST}:{port}",
        f"--workers={WORKERS}",
        # Production recycles a worker every ~1,000 requests as a leak guard; at hundreds of
        # requests per second that would restart workers during the run and measure start-ups.
        "--max-requests=0",
        f"--access-logfile={workdir / f'{name}-access.log'}",
        f"--error-logfile={error_log}",
        "crm.wsgi",
    ]
    with open(output, "wb") as out:
        # A session of its own: the master and its workers form one process group to stop.
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise BenchError(
                    f"gunicorn exited ({process.returncode}) before serving:\n{_log_tail(output, error_log)}"
                )
            with contextlib.suppress(OSError):
                if _get(port, TRIVIAL_PATH, headers)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise BenchError(
                    f"gunicorn does not answer {TRIVIAL_PATH} within 60 s:\n{_log_tail(output, error_log)}"
                )
            time.sleep(0.25)
        echo(f"gunicorn: {WORKERS} workers on {HOST}:{port} (pid {process.pid})")
        yield port
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the master (a graceful stop: it waits for its workers), SIGKILL to the group
    if it hangs, then make sure no worker of that group is left."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    for _ in range(50):
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _collect_static(env: dict[str, str]) -> None:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise BenchError(f"collectstatic failed:\n{result.stdout}{result.stderr}")


def access_log_statuses(access_log: Path) -> dict[str, Counter]:
    """Status codes per path from gunicorn's access log (its default format)."""
    statuses: dict[str, Counter] = {}
    for match in re.finditer(r'"GET (\S+) HTTP/[\d.]+" (\d{3}) ', access_log.read_text(errors="replace")):
        statuses.setdefault(match.group(1), Counter())[match.group(2)] += 1
    return statuses


# --- the signed-in user -------------------------------------------------------------------------


def session_cookie_for(*, username: str) -> tuple[str, str]:
    """(cookie name, session key) of a fresh session signed in as ``username``, made by Django's
    own login machinery (``Client.force_login``: the user_logged_in signal runs, so the idle
    timeout's renewal stamp is set and the measured requests write nothing)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise BenchError(f"no user {username!r} in this database")
    if not user.is_active:
        raise BenchError(f"user {username!r} is deactivated: it cannot sign in")
    client = Client()
    client.force_login(user)
    return settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value


def check_signed_in_page(*, port: int, path: str, headers: dict[str, str], username: str) -> None:
    """The page answers 200 with the session and shows the signed-in page, not the login form."""
    from django.urls import Resolver404, resolve

    status, response_headers, body = _get(port, path, headers)
    if status != 200:
        location = response_headers.get("Location", "")
        hint = " (the session was not accepted)" if "/accounts/login/" in location else ""
        raise BenchError(f"{path} answered {status} {location}{hint} for {username}, not 200")
    if not response_headers.get("Content-Type", "").startswith("text/html"):
        return  # an API answer: without the session it would have been 403, not 200
    html = body.decode("utf-8", errors="replace")
    if 'action="/accounts/logout/"' not in html:
        raise BenchError(f"{path} answered 200 but not as a signed-in page for {username}")
    with contextlib.suppress(Resolver404):
        match = resolve(urlsplit(path).path)
        if match.view_name == "opportunities:list" and 'id="opportunity-results"' not in html:
            raise BenchError(f"{path} answered 200 but shows no opportunity list for {username}")


# --- the measurement ---------------------------------------------------------------------------


def measure_throughput(
    *,
    username: str,
    path: str = "/opportunities/",
    duration: int = 10,
    connections: int = CONNECTIONS,
    threads: int = 2,
    echo: Callable[[str], object] = print,
) -> dict:
    """Requests per second on ``path`` as ``username`` and on the trivial view, same load each.

    Django must be set up, connected to the PostgreSQL database to measure (the server uses the
    same one). Raises BenchError when the measurement cannot be made honestly.
    """
    from importlib import import_module

    from django.conf import settings

    if threads < 1 or connections < threads or duration < 1:
        raise BenchError("need threads ≥ 1, connections ≥ threads and duration ≥ 1 s")
    wrk = ensure_wrk()
    cookie_name, session_key = session_cookie_for(username=username)
    # Production sits behind a proxy that terminates TLS and says so with X-Forwarded-Proto;
    # sending it keeps production's HTTPS settings on the measured path (bench/settings.py).
    headers = {"Cookie": f"{cookie_name}={session_key}", "X-Forwarded-Proto": "https"}
    load = {"headers": headers, "connections": connections, "threads": threads}
    runs = {}
    try:
        with tempfile.TemporaryDirectory(prefix="jihui-throughput-") as tmp:
            workdir = Path(tmp)
            env = _server_environment(workdir=workdir)
            echo("collecting static files for production's manifest storage (not measured)…")
            _collect_static(env)
            # Production's server first (pages kept per snapshot), then one that renders each time.
            servers = (
                ("gunicorn", env, ("trivial", "page")),
                ("rendering", {**env, "JIHUI_PAGE_CACHE_BYTES": "0"}, ("rendered",)),
            )
            for server, server_env, names in servers:
                with gunicorn_server(env=server_env, workdir=workdir, headers=headers, echo=echo, name=server) as port:
                    check_signed_in_page(port=port, path=path, headers=headers, username=username)
                    echo(f"{path}: 200, signed in as {username}")
                    paths = {"trivial": TRIVIAL_PATH, "page": path, "rendered": path}
                    for name in names:
                        drain(run_wrk(wrk, url=f"http://{HOST}:{port}{paths[name]}", duration=WARM_UP_SECONDS, **load))
                    echo(f"warmed up ({WARM_UP_SECONDS} s on each); wrk: {connections} connections, {threads} threads")
                    # wrk, gunicorn and PostgreSQL share this machine's cores: anything else running
                    # takes from all three, unevenly. Say so rather than print a figure as if clean.
                    load_before = os.getloadavg()[0]
                    if load_before > (os.cpu_count() or 1):
                        echo(f"warning: load average {load_before:.1f} before the runs: the figures will be noisy")
                    for name in names:
                        runs[name] = run_wrk(wrk, url=f"http://{HOST}:{port}{paths[name]}", duration=duration, **load)
                        drain(runs[name])
                        run = runs[name]
                        echo(f"{paths[name]} ({name}): {run['rps']:.1f} req/s, p50 {run['latency_ms']['p50']} ms")
                # The server has stopped, so its access log is complete. wrk counts 3xx as success;
                # a redirect (say, to the login page) must fail the run, not count as throughput.
                statuses = access_log_statuses(workdir / f"{server}-access.log")
                for url_path in {paths[name] for name in names}:
                    seen = statuses.get(url_path, Counter())
                    if set(seen) != {"200"}:
                        raise BenchError(f"{url_path} answered {dict(seen) or 'nothing'} in gunicorn's access log")
    finally:
        import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key).delete()
    page, trivial, rendered = runs["page"], runs["trivial"], runs["rendered"]
    if not trivial["rps"]:
        raise BenchError("the trivial view served nothing: no ceiling to compare with")
    return {
        "path": path,
        "username": username,
        "page_rps": page["rps"],
        "trivial_rps": trivial["rps"],
        "ratio": round(page["rps"] / trivial["rps"], 4),
        "rendered_rps": rendered["rps"],
        "rendered_ratio": round(rendered["rps"] / trivial["rps"], 4),
        "page_latency_ms": page["latency_ms"],
        "trivial_latency_ms": trivial["latency_ms"],
        "rendered_latency_ms": rendered["latency_ms"],
        "page_requests": page["requests"],
        "trivial_requests": trivial["requests"],
        "rendered_requests": rendered["requests"],
        "workers": WORKERS,
        "connections": connections,
        "threads": threads,
        "duration_s": duration,
        "load_average_1m": round(load_before, 2),
    }


def markdown_line(result: dict) -> str:
    page = result["page_latency_ms"]
    return (
        f"| {result['path']} as {result['username']} | {result['page_rps']:.1f} req/s "
        f"(p50 {page['p50']:.0f} ms, p99 {page['p99']:.0f} ms) | trivial view {result['trivial_rps']:.1f} req/s "
        f"| {result['ratio']:.1%} of the ceiling (target ≥ {TARGET_RATIO:.0%}); rendered each time "
        f"{result['rendered_rps']:.1f} req/s, {result['rendered_ratio']:.1%} "
        f"| gunicorn {result['workers']} workers, wrk {result['connections']} connections × {result['duration_s']} s |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--user", default="bench_rep_001", help="the signed-in user (default bench_rep_001)")
    parser.add_argument("--path", default="/opportunities/", help="the page to load (default /opportunities/)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load on each path (default 10)")
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help=f"default {CONNECTIONS}")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args = parser.parse_args()

    import django

    django.setup()
    try:
        result = measure_throughput(
            username=args.user,
            path=args.path,
            duration=args.duration,
            connections=args.connections,
            threads=args.threads,
            echo=lambda line: print(line, file=sys.stderr),
        )
    except BenchError as exc:
        sys.exit(f"throughput: {exc}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown_line(result))


if __name__ == "__main__":
    main()
