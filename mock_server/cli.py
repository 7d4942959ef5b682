"""``segmentation-mock serve``: run the mock (granian in front of Flask; see serving.py).

Every flag can also come from an environment variable ``SEGMENTATION_MOCK_<FLAG>``
(``--data-file`` → ``SEGMENTATION_MOCK_DATA_FILE``); flags win over the environment,
which wins over ``--config``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from .http.faults import FaultSettingsError, parse_faults
from .serving import READ_TIMEOUT
from .config import (
    DEMO_STORE_HASH,
    ConfigError,
    MockConfig,
    StoreConfig,
    is_loopback,
    load_config_file,
    policy_from,
    stores_from,
)

ENV_PREFIX = "SEGMENTATION_MOCK_"


def _env(name: str, default: Any = None) -> Any:
    return os.environ.get(ENV_PREFIX + name.upper().replace("-", "_"), default)


def build_parser() -> argparse.ArgumentParser:
    from segmentation_contract import package_version

    parser = argparse.ArgumentParser(
        prog="segmentation-mock",
        description="Stateful mock of BigCommerce's Customer Segmentation V3 API "
        "(its behaviour: docs/behaviour.md in the project; its contract: GET /_mock/openapi.yaml).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the mock server",
        description=(
            "Serve the mock (granian, in front of the Flask app). With no store options, one demo store is created "
            f"(store hash {DEMO_STORE_HASH!r}). Every option may also be set as an environment "
            f"variable {ENV_PREFIX}<OPTION>, e.g. {ENV_PREFIX}PORT=9000."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    serve.add_argument("--host", default=_env("host", "127.0.0.1"), help="interface to bind")
    serve.add_argument("--port", type=int, default=int(_env("port", 8080)), help="port to bind (0: any free port)")
    serve.add_argument("--store-hash", default=_env("store_hash"), help="serve one store with this hash (with --token)")
    serve.add_argument("--token", default=_env("token"), help="the store's X-Auth-Token with the Customers modify scope")
    serve.add_argument(
        "--readonly-token", default=_env("readonly_token"), help="the store's X-Auth-Token with the Customers read-only scope"
    )
    serve.add_argument("--config", default=_env("config"), help="YAML or JSON file listing stores, tokens and rate limits")
    serve.add_argument(
        "--data-file",
        default=_env("data_file"),
        help="keep state in this SQLite file (survives restarts; needed for --workers > 1); default: in memory",
    )
    serve.add_argument("--seed", default=_env("seed"), help="load this fixture (YAML or JSON) at start-up; see /_mock/seed")
    serve.add_argument("--workers", type=int, default=int(_env("workers", 1)), help="worker processes")
    serve.add_argument("--threads", type=int, default=int(_env("threads", 4)), help="threads per worker")
    serve.add_argument("--read-timeout", type=float, default=float(_env("read_timeout", READ_TIMEOUT)),
                       help="seconds a client has to send a request's headers, and again its body; "
                       "a later one is dropped (headers) or answered 400 (body), and holds no thread meanwhile")
    serve.add_argument("--rate-limit-quota", type=int, default=_env("rate_limit_quota"), help="requests per window per store [150]")
    serve.add_argument("--rate-limit-window-ms", type=int, default=_env("rate_limit_window_ms"), help="window length [30000]")
    serve.add_argument(
        "--enforce-rate-limit",
        action="store_true",
        default=_env("enforce_rate_limit", "") not in ("", "0", "false"),
        help="answer 429 past the quota (otherwise the headers only count down)",
    )
    serve.add_argument(
        "--admin-token",
        default=_env("admin_token"),
        help="require this X-Mock-Admin-Token on the control plane (/_mock); needed when --host is not loopback",
    )
    serve.add_argument("--tls-cert", default=_env("tls_cert"), help="serve https with this certificate (PEM; with --tls-key)")
    serve.add_argument("--tls-key", default=_env("tls_key"), help="the certificate's private key (PEM)")
    serve.add_argument("--tls-dir", default=_env("tls_dir"),
                       help="serve https with a self-signed pair kept in this directory (cert.pem, key.pem): made once, "
                       "reused by later starts, so clients can trust one fixed path")
    serve.add_argument(
        "--tls-self-signed",
        action="store_true",
        default=_env("tls_self_signed", "") not in ("", "0", "false"),
        help="serve https with a generated self-signed certificate (its path is printed, for clients to trust)",
    )
    serve.add_argument("--latency-ms", default=_env("latency_ms"), help="add latency to every API request: N or MIN-MAX milliseconds")
    serve.add_argument(
        "--enforce-concurrency-limit",
        action="store_true",
        default=_env("enforce_concurrency_limit", "") not in ("", "0", "false"),
        help="answer 429 past the documented limit of 10 concurrent create/update/add-profiles requests",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> MockConfig:
    config = MockConfig()
    data: dict[str, Any] = load_config_file(args.config) if args.config else {}
    stores = stores_from(data)
    if args.store_hash or args.token or args.readonly_token:
        if not args.store_hash or not args.token:
            raise ConfigError("--store-hash and --token go together (--readonly-token is optional)")
        stores = [StoreConfig(args.store_hash, args.token, args.readonly_token), *stores]
    if stores:
        config.stores = stores
    config.rate_limit = policy_from(
        {
            "rate_limit": {
                **(data.get("rate_limit") or {}),
                **({"quota": args.rate_limit_quota} if args.rate_limit_quota is not None else {}),
                **({"window_ms": args.rate_limit_window_ms} if args.rate_limit_window_ms is not None else {}),
                **({"enforce": True} if args.enforce_rate_limit else {}),
            }
        },
        config.rate_limit,
    )
    faults = dict(data.get("faults") or {})
    if args.latency_ms:
        low, _, high = str(args.latency_ms).partition("-")
        try:
            faults["latency_ms"] = [int(low), int(high or low)]
        except ValueError:
            raise ConfigError("--latency-ms is N or MIN-MAX (milliseconds)") from None
    if args.enforce_concurrency_limit:
        faults["concurrency_limit"] = True
    try:
        parse_faults(faults)
    except FaultSettingsError as exc:
        raise ConfigError(f"faults: {exc}") from None
    config.faults = faults
    config.admin_token = args.admin_token
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ConfigError("--tls-cert and --tls-key go together")
    if sum(map(bool, (args.tls_cert, args.tls_self_signed, args.tls_dir))) > 1:
        raise ConfigError("one of --tls-cert/--tls-key, --tls-self-signed and --tls-dir")
    if not is_loopback(args.host) and not config.admin_token:
        raise ConfigError(
            f"--host {args.host} is reachable from other machines, and so would be the control plane "
            "(/_mock: reset, seed, faults, tokens). Pass --admin-token T (or SEGMENTATION_MOCK_ADMIN_TOKEN) "
            "to protect it, or bind 127.0.0.1."
        )
    config.data_file = args.data_file or data.get("data_file")
    config.seed_file = args.seed or data.get("seed")
    if args.workers < 1 or args.threads < 1:
        raise ConfigError("--workers and --threads must be at least 1")
    if not 0.5 <= args.read_timeout <= 60:
        raise ConfigError(f"--read-timeout {args.read_timeout:g} is out of range (0.5 to 60 seconds)")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port} is not a port (0 to 65535; 0 picks a free one)")
    if args.workers > 1 and not config.data_file:
        raise ConfigError(
            "--workers > 1 needs --data-file: with the in-memory backend each worker process would "
            "hold its own separate state. Use --data-file state.db, or --threads for concurrency."
        )
    return config


def banner(config: MockConfig, host: str, port: int, tls_cert: str | None = None) -> str:
    shown_host = f"[{host}]" if ":" in host else host
    scheme = "https" if tls_cert else "http"
    lines = [f"Segmentation mock on {scheme}://{shown_host}:{port}  (control plane: /_mock/health)"]
    if tls_cert:
        lines.append(f"  TLS certificate: {tls_cert}")
    for store in config.stores:
        lines.append(f"  store {store.store_hash}: base URL {scheme}://{shown_host}:{port}/stores/{store.store_hash}/v3")
        if store.token:
            lines.append(f"    X-Auth-Token (modify):    {store.token}")
        if store.readonly_token:
            lines.append(f"    X-Auth-Token (read-only): {store.readonly_token}")
    lines.append(f"  state: {config.data_file or 'in memory'}")
    return "\n".join(lines)


def startup_problem(config: MockConfig, host: str, port: int, tls: tuple[str, str] | None) -> str:
    """Before the banner: what would keep the server from serving, in one line ('' if nothing).
    The port can be bound, the TLS pair loads, and the app builds (the data file opens,
    the seed file reads and checks), so that no failure turns into worker tracebacks."""
    import socket
    import ssl

    from .http.app import create_app

    if port:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    if tls:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(*tls)
        except (OSError, ssl.SSLError) as exc:
            return f"the TLS certificate or key cannot be used ({tls[0]}, {tls[1]}): {exc}"
    try:
        app = create_app(config)
    except Exception as exc:  # the data file, the seed, the config: one line, not a traceback
        where = f" (data file {config.data_file})" if config.data_file else ""
        seed = f" (seed {config.seed_file})" if config.seed_file else ""
        return f"the mock cannot start{where}{seed}: {type(exc).__name__}: {exc}"
    app.extensions["segmentation_mock"]["storage"].close()
    return ""


def free_port(host: str) -> int:
    """A port the system says is free now (granian binds each worker itself: port 0 would
    give every worker a different one)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _announce_when_listening(text: str, host: str, port: int, patience: float = 60.0) -> None:
    import socket
    import threading
    import time

    def wait_then_print() -> None:
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(({"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host), port), timeout=1):
                    print(text, flush=True)
                    return
            except OSError:
                time.sleep(0.02)

    threading.Thread(target=wait_then_print, name="banner", daemon=True).start()


BACKPRESSURE = 512


class MemoryLost(SystemExit):
    """The server stopped because a worker of the in-memory backend died (exit status 3)."""


def serve(
    config: MockConfig, host: str, port: int, workers: int, threads: int, tls: tuple[str, str] | None = None,
    read_timeout: float = READ_TIMEOUT,
) -> None:
    from granian import Granian
    from granian.constants import Interfaces, SSLProtocols
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    from .http.app import create_app
    from .serving import RsgiAdapter, keep_heap_settled, settle_heap

    if config.seed_file and config.data_file:
        # Seed the shared file once, here, rather than once per worker process.
        create_app(config).extensions["segmentation_mock"]["storage"].close()
        config.seed_file = None
    port = port or free_port(host)

    def load(_target: str) -> RsgiAdapter:  # in each worker process, after the fork
        app = create_app(config, after_seed=settle_heap)
        # Long-lived start-up objects (the compiled document, validators, a seed) move out
        # of the collector's reach, so collections triggered by requests stay cheap.
        settle_heap()
        keep_heap_settled()
        return RsgiAdapter(app, threads, config.max_body_bytes, read_timeout, config.control_body_bytes)

    server = Granian(
        "mock_server.serving:RsgiAdapter",  # a name for granian's logs; load() builds the app
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        workers=workers,
        websockets=False,
        backlog=1024,
        # Connections a worker serves at once, half-sent ones included (measured: the 513th
        # waits in the listen queue until one ends or times out). With API bodies capped at
        # 1 MiB, a worker's buffers stay bounded.
        backpressure=BACKPRESSURE,
        http1_settings=HTTP1Settings(header_read_timeout=int(read_timeout * 1000)),
        log_level=LogLevels.warning,
        log_access=False,
        ssl_cert=Path(tls[0]) if tls else None,
        ssl_key=Path(tls[1]) if tls else None,
        ssl_protocol_min=SSLProtocols.tls12,  # the platform's own floor; granian's default is 1.3
        # SQLite state survives a worker's death: granian starts another. In-memory state
        # does not: the server stops (below) rather than serve an empty store.
        respawn_failed_workers=bool(config.data_file),
        workers_kill_timeout=5,
    )
    # The banner is the signal that the server answers (scripts and tests wait for it), so it
    # is printed once a worker accepts connections, not when granian starts spawning them.
    server.on_startup(lambda: _announce_when_listening(banner(config, host, port, tls[0] if tls else None), host, port))
    try:
        server.serve(target_loader=load, wrap_loader=True)
    except SystemExit as stop:
        if server.interrupt_children and not config.data_file:
            raise MemoryLost(
                "segmentation-mock: a worker of the in-memory backend died and its data with it; the server stops "
                "rather than serve an empty store (use --data-file for state that survives)"
            ) from None
        raise stop


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except (ConfigError, OSError) as exc:
        parser.exit(2, f"segmentation-mock: error: {exc}\n")
    if args.command == "serve":
        tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
        temporary = None
        if args.tls_dir:
            from .tls import kept_pair

            try:
                tls = tuple(str(p) for p in kept_pair(args.tls_dir))
            except OSError as exc:
                parser.exit(2, f"segmentation-mock: error: --tls-dir {args.tls_dir}: {exc}\n")
        elif args.tls_self_signed:
            from .tls import self_signed_pair

            tls = tuple(str(p) for p in self_signed_pair())
            temporary = Path(tls[0]).parent  # a private key in /tmp: removed at shutdown
        master = os.getpid()
        try:
            problem = startup_problem(config, args.host, args.port, tls)
            if problem:
                parser.exit(2, f"segmentation-mock: error: {problem}\n")
            if config.data_file:
                config.seed_file = None  # the check above has seeded the shared file already
            serve(config, args.host, args.port, args.workers, args.threads, tls, args.read_timeout)
        except MemoryLost as lost:
            print(lost.code, file=sys.stderr, flush=True)
            return 3
        finally:
            # Worker processes leave through here too: only the server's own exit removes it.
            if temporary is not None and os.getpid() == master:
                shutil.rmtree(temporary, ignore_errors=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
