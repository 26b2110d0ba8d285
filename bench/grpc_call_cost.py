"""Benchmark: the CPU a grpc.aio server spends on one unary call that does nothing.

The floor under every service RPC: a server built like a service's
(`galaxy_kit.grpc_server.build_server`, uvloop) answers `grpc.health.v1`
Check, a call with no work in it, for four client threads in another process;
the server's CPU time per call is printed, with and without the kit's
interceptor. Everything a service RPC costs above this is its own work.

Run: `uv run python bench/grpc_call_cost.py [--calls 4000]`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading

import grpc
from galaxy_devstack.stack import free_port
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

CLIENT_THREADS = 4


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve(kind: str, port: int) -> None:
    import uvloop
    from galaxy_kit.grpc_server import SERVER_OPTIONS, build_server

    async def main() -> None:
        server = build_server() if kind == "kit" else grpc.aio.server(options=SERVER_OPTIONS)
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()

    uvloop.run(main())


def measure(kind: str, calls: int) -> float:
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port)])
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            check = health_pb2_grpc.HealthStub(channel).Check
            request = health_pb2.HealthCheckRequest()
            check(request, wait_for_ready=True, timeout=60)
            for _ in range(300):
                check(request)
            before = cpu_seconds(server.pid)

            def work() -> None:
                for _ in range(calls // CLIENT_THREADS):
                    check(request)

            threads = [threading.Thread(target=work) for _ in range(CLIENT_THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return (cpu_seconds(server.pid) - before) / calls
    finally:
        server.kill()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--serve", choices=["kit", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    print(f"grpc.aio server CPU per empty unary call ({args.calls} calls, {CLIENT_THREADS} client threads, "
          f"load average {os.getloadavg()[0]:.2f}):")
    for kind in ("kit", "bare"):
        label = "with the kit's interceptor" if kind == "kit" else "without interceptor"
        print(f"  {label:28s} {measure(kind, args.calls) * 1e6:7.0f} µs")


if __name__ == "__main__":
    main()
