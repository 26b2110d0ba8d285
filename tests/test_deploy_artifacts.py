"""Offline checks of the deploy artifacts: Dockerfiles, docker-compose.yml, Helm charts.

Nothing here needs a container engine or a cluster:

- the seven services share one Dockerfile (services/Dockerfile, build args
  SERVICE and GRPC_PORT), the edge has its own; each passes hadolint, and for
  every deployable (the shared one with that service's build args substituted)
  has the expected shape (base image, numeric non-root USER, EXPOSE, ENTRYPOINT
  that leaves Python as the container's process, STOPSIGNAL) and its build stage
  really installs the package: the COPY and `uv sync` steps are replayed in a
  scratch directory and the resulting virtualenv must import the service;
- docker-compose.yml validates against the compose spec, requires its secrets
  (no default admin password) and gives each service the environment its
  settings need;
- every chart passes `helm lint --strict`, renders with `helm template`, and the
  rendered manifests validate against the Kubernetes schemas
  (kubernetes-validate, pinned version, offline); Deployments are hardened and
  probed; NetworkPolicies admit exactly the documented callers.

helm comes from tools/install_deploy_tools.sh (project-local .tools/bin/helm);
the test installs it when it is missing and fails when it cannot.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from galaxy_kit.settings import DEFAULT_GRPC_PORTS

ROOT = Path(__file__).resolve().parents[1]
CHARTS_DIR = ROOT / "charts"
COMPOSE_FILE = ROOT / "docker-compose.yml"
INSTALL_SCRIPT = ROOT / "tools" / "install_deploy_tools.sh"
HELM_PATH = Path(os.environ.get("GALAXY_HELM", ROOT / ".tools" / "bin" / "helm"))

#: The Kubernetes version manifests are rendered for and validated against.
KUBE_VERSION = "1.30.0"

#: The ports the services listen on by default: images, compose and charts must agree with them.
PORTS = dict(DEFAULT_GRPC_PORTS)
SERVICES = list(PORTS)
DEPLOYABLES = SERVICES + ["edge"]
EDGE_HTTP_PORT = 8080
EDGE_PUSH_PORT = 8081

#: Who calls whom over gRPC (documented in the charts' values.yaml and docs/deploy.md).
GRPC_CALLS = {
    "edge": SERVICES,
    "auth": ["account", "mail"],
    "lobby": ["account", "runtime"],
    "notify": ["account", "mail"],
    "geo": ["account"],
    "runtime": ["lobby"],
}
#: gRPC callers each chart's NetworkPolicy must admit, per port name.
EXPECTED_INGRESS = {
    **{
        svc: {"grpc": sorted(c for c, callees in GRPC_CALLS.items() if svc in callees)}
        for svc in SERVICES
    },
    # Notify does not connect to the edge: the edge opens notify's push stream (docs/notify.md).
    "edge": {"http": ["gateway"], "push": ["gateway"]},
}

#: Secret-looking names that must never be set in an image or a ConfigMap.
SECRET_WORDS = re.compile(r"PASSWORD|SECRET|TOKEN|PEPPER|DATABASE_URL|PRIVATE|CREDENTIAL", re.I)


def _tool(name: str) -> str:
    """A console script of the dev group: next to this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} not found: run `uv sync --frozen` (it is in the workspace dev group)"
    return found


def _run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    if cmd[0] in ("hadolint", "check-jsonschema"):
        cmd = [_tool(cmd[0]), *cmd[1:]]
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


#: The chart that installs the whole suite from the per-service charts.
UMBRELLA = "galaxy"


def _pkg_dir(name: str) -> str:
    return "edge-backend" if name == "edge" else f"services/{name}"


#: The one Dockerfile of every gRPC service ("no copy-paste between services").
SERVICES_DOCKERFILE = ROOT / "services" / "Dockerfile"
EDGE_DOCKERFILE = ROOT / "edge-backend" / "Dockerfile"
#: The reference game engine's image (docs/engine.md); runtime starts one per game.
ENGINE_DOCKERFILE = ROOT / "engine" / "Dockerfile"


def _dockerfile(name: str) -> Path:
    return EDGE_DOCKERFILE if name == "edge" else SERVICES_DOCKERFILE


def _build_args(name: str) -> dict[str, str]:
    """The `--build-arg`s a deployable's image is built with (docs/deploy.md, compose)."""
    return {} if name == "edge" else {"SERVICE": name, "GRPC_PORT": str(PORTS[name])}


# ---------------------------------------------------------------- helm set-up


@pytest.fixture(scope="session")
def helm() -> Path:
    """The project-local helm; installed by tools/install_deploy_tools.sh when missing."""

    def works() -> bool:
        return HELM_PATH.is_file() and _run([str(HELM_PATH), "version", "--short"]).returncode == 0

    if not works():
        proc = _run(["bash", str(INSTALL_SCRIPT)], timeout=600)
        if proc.returncode != 0 or not works():
            pytest.fail(
                f"helm missing at {HELM_PATH} and {INSTALL_SCRIPT.name} could not install it:\n"
                f"{proc.stdout}\n{proc.stderr}"
            )
    return HELM_PATH


@pytest.fixture(scope="session")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """helm with private config/cache dirs: no user repositories, no network."""
    home = tmp_path_factory.mktemp("helm-home")
    env = dict(os.environ)
    env.update(
        HELM_CACHE_HOME=str(home / "cache"),
        HELM_CONFIG_HOME=str(home / "config"),
        HELM_DATA_HOME=str(home / "data"),
    )
    return env


@pytest.fixture(scope="session")
def charts(helm: Path, helm_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy of charts/ with the library vendored by `helm dependency build`.

    The build output (charts/*/charts/*.tgz) is not committed; building it in a
    copy keeps the work tree clean. Chart.lock is committed, so this also fails
    when a Chart.yaml's dependencies drift from its lock.
    """
    dest = tmp_path_factory.mktemp("charts") / "charts"
    shutil.copytree(CHARTS_DIR, dest, ignore=shutil.ignore_patterns("charts"))
    for name in DEPLOYABLES:
        proc = _run([str(helm), "dependency", "build", str(dest / f"galaxy-{name}")], env=helm_env)
        assert proc.returncode == 0, f"helm dependency build galaxy-{name}:\n{proc.stdout}{proc.stderr}"
    # the umbrella packages the per-service charts as they are now, with their library vendored
    proc = _run([str(helm), "dependency", "build", str(dest / UMBRELLA)], env=helm_env)
    assert proc.returncode == 0, f"helm dependency build {UMBRELLA}:\n{proc.stdout}{proc.stderr}"
    return dest


def _template(helm: Path, env: dict[str, str], chart: Path, *args: str) -> list[dict[str, Any]]:
    proc = _run(
        [str(helm), "template", chart.name, str(chart), "--namespace", "galaxy",
         "--kube-version", KUBE_VERSION, *args],
        env=env,
    )
    assert proc.returncode == 0, f"helm template {chart.name} {args}:\n{proc.stderr}"
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    assert docs, f"helm template {chart.name} rendered nothing"
    return docs


#: Value sets every chart must render with: the defaults, and every optional part on.
VARIANTS: dict[str, list[str]] = {
    "defaults": [],
    "everything-on": [
        "--set", "autoscaling.enabled=true",
        "--set", "autoscaling.targetMemoryUtilizationPercentage=80",
        "--set", "podDisruptionBudget.minAvailable=1",
        "--set", "bootstrapAdmin.existingSecret=galaxy-auth-admin",
        "--set", "extraSecretEnv[0].name=EXTRA,extraSecretEnv[0].secretName=extra,extraSecretEnv[0].key=k",
        "--set", "networkPolicy.ingress.metrics[0].namespaceSelector.matchLabels.name=monitoring",
    ],
}


@pytest.fixture(scope="session")
def rendered(helm: Path, helm_env: dict[str, str], charts: Path) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out = {}
    for name in DEPLOYABLES:
        for variant, args in VARIANTS.items():
            if variant == "everything-on" and name != "edge":  # the edge has no metrics listener
                args = [*args, "--set", "metrics.enabled=true"]
            out[(name, variant)] = _template(helm, helm_env, charts / f"galaxy-{name}", *args)
    return out


def _one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d.get("kind") == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


# ---------------------------------------------------------------- canaries: the tools can fail


def test_hadolint_rejects_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install uv\n")
    proc = _run(["hadolint", str(bad)])
    assert proc.returncode != 0 and "DL3006" in proc.stdout


def test_compose_schema_rejects_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "docker-compose.yml"
    bad.write_text("services:\n  x:\n    image: a\n    healthcheck:\n      retriez: 3\n")
    proc = _run(["check-jsonschema", "--builtin-schema", "vendor.compose-spec", str(bad)])
    assert proc.returncode != 0


def test_kubernetes_validate_rejects_a_bad_probe() -> None:
    bad = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "x"},
        "spec": {"containers": [{"name": "c", "image": "i", "livenessProbe": {"grpc": {"port": "grpc"}}}]},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBE_VERSION, strict=True)


def test_helm_lint_rejects_a_broken_chart(helm: Path, helm_env: dict[str, str], charts: Path, tmp_path: Path) -> None:
    broken = tmp_path / "galaxy-auth"
    shutil.copytree(charts / "galaxy-auth", broken)
    (broken / "templates" / "broken.yaml").write_text("{{ include \"galaxy-lib.nope\" . }}\n")
    assert _run([str(helm), "lint", str(broken)], env=helm_env).returncode != 0


# ---------------------------------------------------------------- Dockerfiles


#: Instructions whose arguments Docker does not expand (exec form: left to the program).
_NOT_EXPANDED = ("FROM", "ENTRYPOINT", "CMD", "HEALTHCHECK")


def _instructions(path: Path, build_args: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped.

    With ``build_args`` (None: the text as written), build arguments are
    substituted as Docker (or, in RUN, the shell) would: a `${NAME}`/`$NAME`
    only after an `ARG NAME` of the same stage, with the value from
    ``build_args`` or else the ARG's default (empty if it has none).
    """
    out: list[tuple[str, str]] = []
    buf = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out if build_args is None else _substitute_args(out, build_args)


def _substitute_args(ins: list[tuple[str, str]], build_args: dict[str, str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    declared: dict[str, str] = {}
    for kind, arg in ins:
        if kind == "FROM":
            declared = {}  # an ARG is scoped to the stage that declares it
        elif kind not in _NOT_EXPANDED:
            for name, value in declared.items():
                arg = re.sub(rf"\$(?:\{{{name}\}}|{name}\b)", lambda _m, v=value: v, arg)
        if kind == "ARG":
            name, _, default = arg.partition("=")
            declared[name] = build_args.get(name, default)
        out.append((kind, arg))
    return out


def _workspace_deps(pkg_dir: str) -> list[str]:
    """The workspace member directories a package needs, itself last."""
    import tomllib

    members = {}
    for pyproject in [*ROOT.glob("libs/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml"),
                      ROOT / "edge-backend" / "pyproject.toml"]:
        data = tomllib.loads(pyproject.read_text())
        members[data["project"]["name"]] = (str(pyproject.parent.relative_to(ROOT)), data)
    name = next(n for n, (d, _) in members.items() if d == pkg_dir)
    seen: list[str] = []

    def walk(n: str) -> None:
        for dep in members[n][1]["project"].get("dependencies", []):
            dep_name = re.split(r"[\s<>=!~\[;]", dep, maxsplit=1)[0]
            if dep_name in members and members[dep_name][0] not in seen:
                walk(dep_name)
        if members[n][0] not in seen:
            seen.append(members[n][0])

    walk(name)
    return seen


@pytest.mark.parametrize("path", [SERVICES_DOCKERFILE, EDGE_DOCKERFILE, ENGINE_DOCKERFILE],
                         ids=lambda p: p.parent.name)
def test_dockerfile_passes_hadolint(path: Path) -> None:
    proc = _run(["hadolint", "--no-color", str(path)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_services_share_one_dockerfile() -> None:
    """No per-service copy: every gRPC service is built from services/Dockerfile."""
    copies = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("services/*/Dockerfile*"))
    assert not copies, f"per-service Dockerfiles are back: {copies}"


def test_services_dockerfile_requires_its_build_args() -> None:
    """SERVICE and GRPC_PORT have no default, and the build stops early without them."""
    raw = _instructions(SERVICES_DOCKERFILE)
    declared = [a for k, a in raw if k == "ARG" and a.partition("=")[0] in ("SERVICE", "GRPC_PORT")]
    assert sorted(declared) == ["GRPC_PORT", "GRPC_PORT", "SERVICE", "SERVICE"], (
        f"SERVICE and GRPC_PORT must be declared in both stages, without a default: {declared}"
    )
    first_copy = next(i for i, (k, a) in enumerate(raw) if k == "COPY" and "SERVICE" in a)
    guards = [a for k, a in raw[:first_copy] if k == "RUN" and "SERVICE" in a and "GRPC_PORT" in a]
    assert len(guards) == 1, "a RUN before the first COPY of services/${SERVICE} must check the build args"
    base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for args, ok in (({}, False), ({"SERVICE": "auth"}, False), (_build_args("auth"), True)):
        proc = _run(["/bin/sh", "-c", guards[0]], env={**base_env, **args})
        assert (proc.returncode == 0) == ok, f"guard with {args}: exit {proc.returncode}"


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_dockerfile_shape(name: str) -> None:
    path = _dockerfile(name)
    ins = _instructions(path, _build_args(name))
    kinds = [k for k, _ in ins]
    module = f"galaxy_{name}"

    # python:3.11-slim for every stage (directly or through the PYTHON_IMAGE default)
    args = dict(a.split("=", 1) for k, a in ins if k == "ARG" and "=" in a)
    froms = [a.split()[0] for k, a in ins if k == "FROM"]
    assert len(froms) >= 2, "multi-stage build expected"
    for image in froms:
        resolved = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), image)
        assert resolved == "python:3.11-slim", f"base image {image!r} resolves to {resolved!r}"

    # uv from PyPI, pinned; installs only this package from the lock file
    runs = " ".join(a for k, a in ins if k == "RUN")
    assert re.search(r"pip install --no-cache-dir uv==\d+\.\d+\.\d+", runs), "uv must come pinned from PyPI"
    syncs = [a[a.index("uv sync"):] for k, a in ins if k == "RUN" and "uv sync" in a]
    assert len(syncs) == 2, "a dependency layer, then the workspace packages"
    for sync in syncs:
        assert re.search(rf"uv sync --frozen --no-dev .*--package \"?galaxy-{name}\b", sync), sync
    assert "--no-install-workspace" in syncs[0] and "--no-editable" in syncs[1]
    assert "curl" not in runs and "wget" not in runs, "no downloaded binaries"

    # the runtime stage: numeric non-root user, ports, signal, entry point
    last_stage = ins[max(i for i, (k, _) in enumerate(ins) if k == "FROM"):]
    users = [a for k, a in last_stage if k == "USER"]
    assert users, "the final stage must declare USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER must be a numeric non-root UID, not {users[-1]!r}"
    exposed = {int(p.split("/")[0]) for k, a in last_stage if k == "EXPOSE" for p in a.split()}
    want = {EDGE_HTTP_PORT, EDGE_PUSH_PORT} if name == "edge" else {PORTS[name]}
    assert exposed == want
    env = _image_env(last_stage)
    if name == "edge":
        assert env["BACKEND_HTTP_LISTEN_ADDR"] == f"0.0.0.0:{EDGE_HTTP_PORT}"
        assert env["BACKEND_GRPC_PUSH_LISTEN_ADDR"] == f"0.0.0.0:{EDGE_PUSH_PORT}"
    else:
        assert env["GALAXY_GRPC_LISTEN_ADDR"] == f"0.0.0.0:{PORTS[name]}"
    # byte-code at optimisation level 2, the level the container runs at, for the standard library
    # too (the official base ships none; docs/deploy.md "Image sizes")
    assert env["PYTHONOPTIMIZE"] == "2"
    assert "UV_COMPILE_BYTECODE" not in _image_env(ins), "uv would compile at the default level"
    stage_runs = [a for k, a in last_stage if k == "RUN"]
    assert any(re.search(r"compileall .*-o 2 .*sysconfig", a) for a in stage_runs), \
        "the runtime stage must compile the standard library at level 2"
    assert ("STOPSIGNAL", "SIGTERM") in last_stage
    assert _effective_command(last_stage) == ["python", "-m", module]
    assert kinds.count("HEALTHCHECK") <= 1

    # no secrets baked in
    for k, a in ins:
        if k in ("ENV", "ARG"):
            for key in re.findall(r"(\w+)=", a) + ([a.split()[0]] if a and "=" not in a.split()[0] else []):
                assert not SECRET_WORDS.search(key), f"{k} {key} looks like a secret"


def _image_env(stage: list[tuple[str, str]]) -> dict[str, str]:
    """The ENV a stage sets (build args already substituted)."""
    env: dict[str, str] = {}
    for kind, arg in stage:
        if kind == "ENV":
            env.update(p.split("=", 1) for p in shlex.split(arg))
    return env


def _entrypoint(stage: list[tuple[str, str]]) -> list[str]:
    entry = [a for k, a in stage if k == "ENTRYPOINT"]
    assert entry, "the final stage must declare ENTRYPOINT"
    argv = yaml.safe_load(entry[-1])
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv), "ENTRYPOINT must be exec form"
    return argv


def _effective_command(stage: list[tuple[str, str]]) -> list[str]:
    """What the container runs: the ENTRYPOINT, or the command its `sh -c "exec ..."` execs."""
    argv = _entrypoint(stage)
    if argv[:2] != ["/bin/sh", "-c"]:
        return argv
    script = argv[2]
    assert script.startswith("exec "), "a shell entry point must exec, or SIGTERM stops at the shell"
    env = _image_env(stage)
    words = shlex.split(script)[1:]
    words = [w for w in words if w != "$@"]  # run-time arguments, passed through
    return [re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), m.group(0)), w) for w in words]


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_entrypoint_leaves_python_as_the_container_process(name: str, tmp_path: Path) -> None:
    """Run the ENTRYPOINT with a stand-in `python`: same PID as the entry point (so
    PID 1 in the container, receiving SIGTERM), the service module, extra args passed on."""
    ins = _instructions(_dockerfile(name), _build_args(name))
    last_stage = ins[max(i for i, (k, _) in enumerate(ins) if k == "FROM"):]
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "python"
    fake.write_text('#!/bin/sh\necho "$$"\nfor a in "$@"; do echo "$a"; done\n')
    fake.chmod(0o755)
    env = {**_image_env(last_stage), "PATH": f"{bindir}:/usr/bin:/bin"}
    proc = subprocess.Popen(
        [*_entrypoint(last_stage), "--extra", "two words"], env=env, stdout=subprocess.PIPE, text=True
    )
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    pid, *argv = out.splitlines()
    assert int(pid) == proc.pid, "python does not replace the entry point's process (missing exec?)"
    assert argv == ["-m", f"galaxy_{name}", "--extra", "two words"]


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_dockerfile_copies_every_workspace_dependency(name: str) -> None:
    """A new workspace dependency of the package must be copied into the image too."""
    ins = _instructions(_dockerfile(name), _build_args(name))
    copies = [a.split() for k, a in ins if k == "COPY" and "--from" not in a]
    sources = {src.rstrip("/") for parts in copies for src in parts[:-1]}
    for member in _workspace_deps(_pkg_dir(name)):
        assert f"{member}/pyproject.toml" in sources, f"{member}/pyproject.toml is not copied"
        assert member in sources, f"{member}/ is not copied"
    for src in sources:
        assert (ROOT / src).exists(), f"COPY source {src} does not exist"


def test_dockerignore_keeps_state_and_secrets_out() -> None:
    lines = {ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()}
    for pattern in (".git", "**/.venv", ".tools", ".galaxy", "**/.env"):
        assert pattern in lines, f".dockerignore lacks {pattern}"


def _replay_build_stage(name: str, ctx: Path, venv: Path) -> str | None:
    """Run the build stage's COPY and `uv sync` steps against the work tree, without Docker.

    Returns None on success, else what failed.
    """
    ins = _instructions(_dockerfile(name), _build_args(name))
    end = [i for i, (k, _) in enumerate(ins) if k == "FROM"][1]
    workdir = ctx
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV"))}
    ignore = shutil.ignore_patterns("tests", "__pycache__", "*.pyc", ".venv", "*.egg-info")
    for kind, arg in ins[:end]:
        if kind == "WORKDIR":
            workdir = ctx / arg.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif kind == "ENV":  # ${VAR} from what is set so far, as Docker does (PATH=/opt/uv/bin:${PATH})
            for name, value in (p.split("=", 1) for p in shlex.split(arg)):
                env[name] = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), value)
        elif kind == "COPY":
            *srcs, dest = arg.split()
            for src in srcs:
                source = ROOT / src
                if source.is_dir():  # like Docker: the directory's contents go to dest
                    shutil.copytree(source, workdir / dest, ignore=ignore, dirs_exist_ok=True)
                else:
                    target = workdir / dest / source.name if dest.endswith("/") else workdir / dest
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, target)
        elif kind == "RUN" and "compileall" in arg:
            # the slimming step, on the replayed virtualenv with its own interpreter (Python 3.11)
            script = arg.replace("/opt/venv", str(venv))
            run_env = {**env, "PATH": f"{venv / 'bin'}:{env['PATH']}"}
            proc = _run(["/bin/sh", "-c", script], cwd=workdir, env=run_env, timeout=600)
            if proc.returncode != 0:
                return f"{script}:\n{proc.stdout}{proc.stderr}"
        elif kind == "RUN" and " uv sync " in f" {arg} ":
            cmd = shlex.split(arg[arg.index("uv sync"):])
            # host Python instead of the image's; bytecode compilation only costs time here
            env.update(UV_PROJECT_ENVIRONMENT=str(venv), UV_PYTHON=sys.executable, UV_COMPILE_BYTECODE="0")
            proc = _run(cmd, cwd=workdir, env={**env, "UV_OFFLINE": "1"}, timeout=600)
            if proc.returncode != 0:  # not everything in the uv cache yet: ask the index
                proc = _run(cmd, cwd=workdir, env=env, timeout=600)
            if proc.returncode != 0:
                return f"{' '.join(cmd)}:\n{proc.stdout}{proc.stderr}"
    return None


#: What an image must not carry besides the development packages: the edge has no database, so
#: galaxy-kit's `db` extra (SQLAlchemy, asyncpg, Alembic) stays out of its image.
NOT_IN_IMAGE = {"edge": ("sqlalchemy", "asyncpg", "alembic")}


def _check_image_venv(name: str, venv: Path) -> str | None:
    """The service's entry module imports with what was installed, and nothing else is there.

    As the image runs it: at optimisation level 2, with the byte-code of every module it loads
    from the virtualenv already compiled (a read-only root filesystem compiles nothing to disk, and
    compiling at each start costs time and memory), and without what a running service never
    reads (extension modules' debug symbols, packages' own tests, type stubs; docs/deploy.md
    "Image sizes").
    """
    # no `assert` in here: level 2 drops them
    code = (
        "import importlib, importlib.util, os, sys\n"
        "def check(ok, why):\n"
        "    if not ok:\n"
        "        sys.exit(why)\n"
        "check(sys.flags.optimize == 2, f'optimisation level {sys.flags.optimize}')\n"
        f"check(importlib.util.find_spec('galaxy_{name}.__main__'), 'no __main__')\n"
        f"importlib.import_module('galaxy_{name}.__main__')\n"
        "import grpc_health.v1.health_pb2\n"
        "cached = [getattr(getattr(m, '__spec__', None), 'cached', None) for m in list(sys.modules.values())]\n"
        f"missing = [c for c in cached if c and c.startswith({str(venv)!r}) and not os.path.exists(c)]\n"
        "check(not missing, f'byte-code not compiled in the image: {missing[:5]} ({len(missing)})')\n"
        f"others = [m for m in {[f'galaxy_{d}' for d in DEPLOYABLES if d != name]!r} "
        "if importlib.util.find_spec(m)]\n"
        "check(not others, f'other deployables in the image: {others}')\n"
        f"for unwanted in ('pytest', 'galaxy_devstack', *{NOT_IN_IMAGE.get(name, ())!r}):\n"
        "    check(not importlib.util.find_spec(unwanted), f'{unwanted} in the image')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    proc = _run([str(venv / "bin" / "python"), "-c", code], cwd=venv.parent,
                env={**env, "PYTHONOPTIMIZE": "2", "PYTHONDONTWRITEBYTECODE": "1"})
    if proc.returncode != 0:
        return proc.stdout + proc.stderr
    site = next(venv.glob("lib/python*/site-packages"))
    left = [str(p.relative_to(site)) for p in site.rglob("*")
            if (p.is_dir() and p.name in ("test", "tests")) or p.suffix == ".pyi"]
    if left:
        return f"tests or type stubs left in the image: {left[:5]} ({len(left)})"
    for so in site.rglob("*.so"):
        sections = _run(["readelf", "-S", "-W", str(so)])
        if sections.returncode != 0 or ".debug_info" in sections.stdout:
            return f"{so.relative_to(site)} keeps its debug symbols: {sections.stderr}"
    # installed as wheels, not editable links back into the build context
    pths = " ".join(p.read_text() for p in venv.glob("lib/python*/site-packages/*.pth"))
    if str(venv.parent / "ctx") in pths:
        return "workspace packages were installed editable"
    return None


@pytest.fixture(scope="session")
def image_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """Replay every Dockerfile's build stage and check the result, a few at a time."""
    from concurrent.futures import ThreadPoolExecutor

    base = tmp_path_factory.mktemp("images")

    def one(name: str) -> str | None:
        venv = base / name / "venv"
        return _replay_build_stage(name, base / name / "ctx", venv) or _check_image_venv(name, venv)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(DEPLOYABLES, pool.map(one, DEPLOYABLES)))


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_image_build_stage_installs_the_service(image_builds: dict[str, str | None], name: str) -> None:
    """The Dockerfile's install steps give a virtualenv that runs the service, and only it."""
    assert image_builds[name] is None, image_builds[name]


# ---------------------------------------------------------------- docker-compose.yml


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def test_compose_validates_against_the_compose_spec() -> None:
    proc = _run(["check-jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_compose_requires_secrets_and_has_no_default_password(compose: dict[str, Any]) -> None:
    text = COMPOSE_FILE.read_text()
    # any ${VAR:-default} / ${VAR-default} on a secret-looking variable is a built-in secret
    for var, op in re.findall(r"\$\{(\w+)(:?[-?+]?)", text):
        if SECRET_WORDS.search(var):
            assert op in (":?", "?"), f"${{{var}}} must be required (:?), not defaulted"
    auth_env = compose["services"]["auth"]["environment"]
    for var in ("GALAXY_ADMIN_USERNAME", "GALAXY_ADMIN_PASSWORD"):
        assert re.fullmatch(rf"\$\{{{var}:\?[^}}]+\}}", str(auth_env[var])), f"{var} must be ${{{var}:?...}}"
    for svc in compose["services"].values():
        for key, value in (svc.get("environment") or {}).items():
            if SECRET_WORDS.search(key) and key != "GALAXY_DATABASE_URL":
                assert "${" in str(value), f"{key} holds a literal secret"


def _settings_class(name: str) -> type:
    from pydantic_settings import BaseSettings

    module = importlib.import_module(f"galaxy_{name}.settings")
    classes = [
        c for c in vars(module).values()
        if isinstance(c, type) and issubclass(c, BaseSettings) and c.__module__ == module.__name__
    ]
    assert classes, f"galaxy_{name}.settings defines no settings class"
    return classes[-1]


def _env_names(cls: type) -> dict[str, Any]:
    """Environment variable name → field default, as pydantic-settings reads them."""
    prefix = cls.model_config.get("env_prefix", "") or ""
    out = {}
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        env = alias if isinstance(alias, str) else f"{prefix}{field_name}".upper()
        out[env.upper()] = field.default
    return out


def _needed_env(name: str) -> set[str]:
    """What a container must set: every setting whose default points at localhost, listeners, admin."""
    env = _env_names(_settings_class(name))
    needed = {k for k, default in env.items() if isinstance(default, str) and "127.0.0.1" in default}
    if name == "edge":
        needed |= {"BACKEND_HTTP_LISTEN_ADDR", "BACKEND_GRPC_PUSH_LISTEN_ADDR"}
    else:
        needed |= {"GALAXY_DATABASE_URL", "GALAXY_KAFKA_BOOTSTRAP_SERVERS", "GALAXY_GRPC_LISTEN_ADDR"}
    for callee in GRPC_CALLS.get(name, []):
        needed.add(f"GALAXY_{callee.upper()}_GRPC_TARGET")
    if name == "auth":
        needed |= {"GALAXY_ADMIN_USERNAME", "GALAXY_ADMIN_PASSWORD"}
    # a secret the settings read (the login-code pepper, ...) is set, from a secret store
    needed |= {k for k in env if SECRET_WORDS.search(k) and "ADMIN" not in k and "SMTP" not in k}
    if name == "mail" or "GALAXY_SMTP_HOST" in env:
        needed |= {"GALAXY_SMTP_HOST", "GALAXY_SMTP_PORT"}
    return needed


def _known_env(name: str) -> set[str]:
    documented = set(re.findall(r"`((?:GALAXY|BACKEND)_[A-Z_]+)`", (ROOT / "docs" / "configuration.md").read_text()))
    targets = {f"GALAXY_{s.upper()}_GRPC_TARGET" for s in SERVICES}
    return set(_env_names(_settings_class(name))) | documented | targets | {"DOCKER_HOST"}


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_compose_service_env_covers_its_settings(compose: dict[str, Any], name: str) -> None:
    svc = compose["services"][name]
    env = {k: str(v) for k, v in svc["environment"].items()}
    missing = _needed_env(name) - set(env)
    assert not missing, f"{name} lacks {sorted(missing)}"
    unknown = {k for k in env if k.startswith(("GALAXY_", "BACKEND_"))} - _known_env(name)
    assert not unknown, f"{name} sets variables nothing reads: {sorted(unknown)}"
    if name == "edge":
        assert env["BACKEND_HTTP_LISTEN_ADDR"] == f"0.0.0.0:{EDGE_HTTP_PORT}"
        assert env["BACKEND_GRPC_PUSH_LISTEN_ADDR"] == f"0.0.0.0:{EDGE_PUSH_PORT}"
    else:
        assert env["GALAXY_GRPC_LISTEN_ADDR"] == f"0.0.0.0:{PORTS[name]}"
        assert "@postgres:5432/" in env["GALAXY_DATABASE_URL"]
        assert env["GALAXY_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    for key, value in env.items():
        m = re.fullmatch(r"GALAXY_(\w+)_GRPC_TARGET", key)
        if m:
            callee = m.group(1).lower()
            assert value == f"{callee}:{PORTS[callee]}", f"{key}={value}"
    if name == "mail":
        assert env["GALAXY_SMTP_HOST"] == "mailpit" and env["GALAXY_SMTP_PORT"] == "1025"


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_compose_service_is_built_healthchecked_and_ordered(compose: dict[str, Any], name: str) -> None:
    svc = compose["services"][name]
    build = svc["build"]
    assert build["dockerfile"] == str(_dockerfile(name).relative_to(ROOT))
    assert build.get("context", ".") == "."
    assert {k: str(v) for k, v in (build.get("args") or {}).items()} == _build_args(name)
    assert [str(p) for p in svc.get("expose", [])] == ([] if name == "edge" else [str(PORTS[name])])
    assert svc["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    # No start order: each service waits for what it needs (podman-compose with podman 4.3 can
    # neither wait for health nor start chains of dependencies; docs/deploy.md).
    assert "depends_on" not in svc
    if name != "edge":
        assert "GALAXY_DATABASE_WAIT_SECONDS" in svc["environment"]


def test_compose_infrastructure(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["mailpit"]["image"].startswith("axllent/mailpit:")
    # runtime's engine socket is configurable and never created on the host when missing
    [socket] = services["runtime"]["volumes"]
    assert socket["type"] == "bind" and socket["target"] == "/var/run/docker.sock"
    assert socket["source"] == "${GALAXY_CONTAINER_SOCKET:-/var/run/docker.sock}"
    assert socket["bind"]["create_host_path"] is False
    # topics are created by the services (automatic creation is off), not by a one-shot container
    assert services["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "kafka-init" not in services
    assert not any("depends_on" in svc for svc in services.values())


def test_compose_overrides_only_swap_images() -> None:
    """The local stand-ins replace the three third-party images and nothing else (podman-compose
    1.0 appends lists when merging, so an override must not touch one)."""
    local = yaml.safe_load((ROOT / "docker-compose.local.yml").read_text())["services"]
    assert set(local) == {"postgres", "kafka", "mailpit"}
    for svc in local.values():
        assert set(svc) == {"image", "build"} and svc["image"].startswith("localhost/")
        assert (ROOT / svc["build"]["context"] / "Containerfile").is_file()
    test = yaml.safe_load((ROOT / "docker-compose.test.yml").read_text())["services"]
    assert test == {"postgres": {"ports": ["127.0.0.1:${GALAXY_POSTGRES_PORT:-5432}:5432"]}}
    for path in ("docker-compose.local.yml", "docker-compose.test.yml"):
        proc = _run(["check-jsonschema", "--builtin-schema", "vendor.compose-spec", str(ROOT / path)])
        assert proc.returncode == 0, proc.stdout + proc.stderr


# ---------------------------------------------------------------- Helm charts


@pytest.mark.parametrize("chart", ["galaxy-lib"] + [f"galaxy-{n}" for n in DEPLOYABLES])
def test_helm_lint(helm: Path, helm_env: dict[str, str], charts: Path, chart: str) -> None:
    proc = _run([str(helm), "lint", "--strict", str(charts / chart), "--kube-version", KUBE_VERSION], env=helm_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_library_chart_is_a_library_and_every_chart_uses_it() -> None:
    lib = yaml.safe_load((CHARTS_DIR / "galaxy-lib" / "Chart.yaml").read_text())
    assert lib["type"] == "library"
    for name in DEPLOYABLES:
        meta = yaml.safe_load((CHARTS_DIR / f"galaxy-{name}" / "Chart.yaml").read_text())
        assert meta["type"] == "application"
        assert {"name": "galaxy-lib", "version": lib["version"], "repository": "file://../galaxy-lib"} in meta[
            "dependencies"
        ]


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", DEPLOYABLES)
def test_rendered_manifests_validate(rendered: dict, name: str, variant: str) -> None:
    docs = rendered[(name, variant)]
    kinds = sorted(d["kind"] for d in docs)
    want = ["ConfigMap", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "Service", "ServiceAccount"]
    if variant == "everything-on":
        want.append("HorizontalPodAutoscaler")
    assert kinds == sorted(want)
    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", DEPLOYABLES)
def test_deployment_is_hardened_and_probed(rendered: dict, name: str, variant: str) -> None:
    docs = rendered[(name, variant)]
    dep = _one(docs, "Deployment")
    pod = dep["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["runAsNonRoot"] is True
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert not container["image"].endswith(":latest")
    assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    live, ready = container["livenessProbe"], container["readinessProbe"]
    if name == "edge":
        assert ports["http"] == EDGE_HTTP_PORT and ports["push"] == EDGE_PUSH_PORT
        assert live["httpGet"] == {"path": "/healthz", "port": EDGE_HTTP_PORT}
        assert ready["httpGet"] == {"path": "/readyz", "port": EDGE_HTTP_PORT}
    else:
        assert ports["grpc"] == PORTS[name]
        assert live["grpc"]["port"] == PORTS[name]
        assert ready["grpc"]["port"] == PORTS[name]
    if variant == "everything-on":
        assert "replicas" not in dep["spec"], "the HPA owns the replica count"
        hpa = _one(docs, "HorizontalPodAutoscaler")
        assert hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"]
    else:
        assert dep["spec"]["replicas"] >= 1


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_chart_has_no_inline_secrets_and_covers_settings(rendered: dict, name: str) -> None:
    docs = rendered[(name, "defaults")]
    assert not [d for d in docs if d["kind"] == "Secret"], "charts reference existing Secrets only"
    data = _one(docs, "ConfigMap")["data"]
    for key in data:
        assert not SECRET_WORDS.search(key), f"{key} must come from a Secret, not the ConfigMap"
    container = _one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container.get("env", [])}
    assert container["envFrom"] == [{"configMapRef": {"name": _one(docs, "ConfigMap")["metadata"]["name"]}}]
    provided = set(data) | set(env)
    needed = _needed_env(name) - {"GALAXY_ADMIN_USERNAME", "GALAXY_ADMIN_PASSWORD"}  # optional in Kubernetes
    missing = needed - provided
    # GALAXY_SMTP_HOST has no sensible cluster default; the chart documents it as required
    if name == "mail":
        missing -= {"GALAXY_SMTP_HOST"}
    assert not missing, f"galaxy-{name} does not set {sorted(missing)}"
    for key, entry in env.items():
        if SECRET_WORDS.search(key):
            assert "secretKeyRef" in entry.get("valueFrom", {}), f"{key} must come from a Secret"
    if name != "edge":
        assert "secretKeyRef" in env["GALAXY_DATABASE_URL"]["valueFrom"]
        assert data["GALAXY_GRPC_LISTEN_ADDR"] == f"0.0.0.0:{PORTS[name]}"
    for key, value in data.items():
        m = re.fullmatch(r"GALAXY_(\w+)_GRPC_TARGET", key)
        if m:
            callee = m.group(1).lower()
            assert value == f"galaxy-{callee}:{PORTS[callee]}"


def test_bootstrap_admin_comes_from_a_secret(rendered: dict) -> None:
    docs = rendered[("auth", "everything-on")]
    env = {e["name"]: e for e in _one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]}
    for var in ("GALAXY_ADMIN_USERNAME", "GALAXY_ADMIN_PASSWORD"):
        assert env[var]["valueFrom"]["secretKeyRef"]["name"] == "galaxy-auth-admin"
    defaults = _one(rendered[("auth", "defaults")], "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert "GALAXY_ADMIN_PASSWORD" not in {e["name"] for e in defaults.get("env", [])}


def _admitted(policy: dict[str, Any], port: int) -> list[str]:
    names = []
    for rule in policy["spec"].get("ingress", []):
        if any(p.get("port") == port for p in rule.get("ports", [])):
            for peer in rule.get("from", []):
                label = peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name", "?")
                names.append(label.removeprefix("galaxy-"))
    return sorted(names)


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_network_policy_admits_only_real_callers(rendered: dict, name: str) -> None:
    docs = rendered[(name, "defaults")]
    policy = _one(docs, "NetworkPolicy")
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    assert policy["spec"]["podSelector"]["matchLabels"] == _one(docs, "Deployment")["spec"]["selector"]["matchLabels"]
    port_numbers = {"grpc": PORTS.get(name), "http": EDGE_HTTP_PORT, "push": EDGE_PUSH_PORT}
    for port_name, callers in EXPECTED_INGRESS[name].items():
        assert _admitted(policy, port_numbers[port_name]) == callers
    # every rule is bound to a port and to peers: nothing is open to all
    for rule in policy["spec"]["ingress"]:
        assert rule.get("ports") and rule.get("from")


def test_network_policies_match_the_grpc_targets(rendered: dict) -> None:
    """A chart that points at another service must be admitted by that service's policy."""
    for caller in DEPLOYABLES:
        data = _one(rendered[(caller, "defaults")], "ConfigMap")["data"]
        for key in data:
            m = re.fullmatch(r"GALAXY_(\w+)_GRPC_TARGET", key)
            if m:
                callee = m.group(1).lower()
                policy = _one(rendered[(callee, "defaults")], "NetworkPolicy")
                assert caller in _admitted(policy, PORTS[callee]), f"{callee} does not admit {caller}"


def test_pdb_never_blocks_a_drain_by_default(rendered: dict) -> None:
    for name in DEPLOYABLES:
        pdb = _one(rendered[(name, "defaults")], "PodDisruptionBudget")
        assert pdb["spec"].get("maxUnavailable") == 1


def test_chart_values_are_documented() -> None:
    """Every top-level key of every values.yaml is preceded by a comment or documented in docs/deploy.md."""
    deploy_doc = (ROOT / "docs" / "deploy.md").read_text()
    for name in DEPLOYABLES:
        values = (CHARTS_DIR / f"galaxy-{name}" / "values.yaml").read_text()
        lines = values.splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^(\w+):", line)
            if m:
                prev = lines[i - 1].strip() if i else ""
                assert prev.startswith("#") or f"`{m.group(1)}`" in deploy_doc, (
                    f"galaxy-{name} values.yaml: {m.group(1)} is undocumented"
                )



# ---------------------------------------------------------------- the umbrella chart


def test_umbrella_chart_depends_on_every_service_chart() -> None:
    meta = yaml.safe_load((CHARTS_DIR / UMBRELLA / "Chart.yaml").read_text())
    values = yaml.safe_load((CHARTS_DIR / UMBRELLA / "values.yaml").read_text())
    want = []
    for name in DEPLOYABLES:
        chart = yaml.safe_load((CHARTS_DIR / f"galaxy-{name}" / "Chart.yaml").read_text())
        want.append({"name": f"galaxy-{name}", "version": chart["version"],
                     "repository": f"file://../galaxy-{name}", "condition": f"galaxy-{name}.enabled"})
        assert values[f"galaxy-{name}"] == {"enabled": True}
    assert meta["dependencies"] == want


def test_umbrella_chart_lints(helm: Path, helm_env: dict[str, str], charts: Path) -> None:
    proc = _run([str(helm), "lint", "--strict", str(charts / UMBRELLA), "--kube-version", KUBE_VERSION], env=helm_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_umbrella_chart_renders_the_whole_suite(helm: Path, helm_env: dict[str, str], charts: Path,
                                                rendered: dict) -> None:
    """One release renders exactly what the eight charts render alone, and every manifest validates."""
    docs = _template(helm, helm_env, charts / UMBRELLA)
    alone = [d for name in DEPLOYABLES for d in rendered[(name, "defaults")]]
    key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
    assert sorted(map(key, docs)) == sorted(map(key, alone))
    assert sorted(d["metadata"]["name"] for d in docs if d["kind"] == "Deployment") == sorted(
        f"galaxy-{n}" for n in DEPLOYABLES)
    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except Exception as exc:  # noqa: BLE001 - collect every failure
            errors.append(f"{key(doc)}: {exc}")
    assert not errors, "\n".join(errors)


def test_umbrella_chart_leaves_out_a_disabled_service(helm: Path, helm_env: dict[str, str], charts: Path) -> None:
    docs = _template(helm, helm_env, charts / UMBRELLA, "--set", "galaxy-geo.enabled=false",
                     "--set", "galaxy-auth.replicaCount=3")
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert sorted(deployments) == sorted(f"galaxy-{n}" for n in DEPLOYABLES if n != "geo")
    assert deployments["galaxy-auth"]["spec"]["replicas"] == 3
