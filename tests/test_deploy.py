"""The deployment files, checked without a Docker engine: Dockerfile, docker-compose.yml,
requirements.lock and .dockerignore are read and held against the code they run: the modules
exist, the settings they name are real, the lock pins what pyproject.toml asks for, and the
catalogues are found where the image puts them.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from pydantic import SecretStr

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("bot", "worker")


# --- reading the files ---------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined; comments and blank lines dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
        pending = ""
    return instructions


@functools.cache
def dockerfile() -> tuple[Instruction, ...]:
    return tuple(parse_dockerfile((ROOT / "Dockerfile").read_text()))


def stages() -> list[list[Instruction]]:
    found: list[list[Instruction]] = []
    for instruction in dockerfile():
        if instruction.keyword == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def final_stage(keyword: str) -> list[Instruction]:
    return [i for i in stages()[-1] if i.keyword == keyword]


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"not the exec form: {args}"
    return [str(item) for item in value]


def without_flags(args: str) -> list[str]:
    return [word for word in shlex.split(args) if not word.startswith("--")]


def variables(keyword: str) -> dict[str, str]:
    """Names set by ENV or ARG in any stage (``K=V ...``, ``K V`` and bare ``ARG K``)."""
    found: dict[str, str] = {}
    for instruction in dockerfile():
        if instruction.keyword != keyword:
            continue
        words = shlex.split(instruction.args)
        if "=" not in words[0] and keyword == "ENV":
            found[words[0]] = " ".join(words[1:])
            continue
        for word in words:
            name, _, value = word.partition("=")
            found[name] = value
    return found


@functools.cache
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def service(name: str) -> dict[str, Any]:
    found = compose()["services"][name]
    assert isinstance(found, dict)
    return found


def environment(name: str) -> dict[str, str]:
    env = service(name).get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def interpolate(value: str) -> str:
    """Compose's ``${VAR:-default}`` with nothing set: the default."""
    return re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", value)


def mounts(name: str) -> dict[str, str]:
    """Container path -> source (named volume or host path)."""
    found: dict[str, str] = {}
    for volume in service(name).get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume["source"], volume["target"]
        found[target] = source
    return found


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """(exclude?, regex) per line, Docker's syntax: ``*``, ``?``, ``[..]``, ``**``, ``!``."""
    rules: list[tuple[bool, re.Pattern[str]]] = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        for token in re.findall(r"\*\*/|\*\*|\*|\?|\[[^]]*\]|[^*?[]+", pattern):
            regex += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                token, token if token.startswith("[") else re.escape(token)
            )
        rules.append((exclude, re.compile(regex)))
    return rules


def ignored(path: str) -> bool:
    """Whether the build context leaves ``path`` (or a folder above it) out."""
    parts = path.strip("/").split("/")
    result = False
    for exclude, regex in dockerignore_rules():
        if any(regex.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            result = exclude
    return result


@functools.cache
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def runtime_requirements() -> list[Requirement]:
    return [Requirement(line) for line in pyproject()["project"]["dependencies"]]


@functools.cache
def lock() -> dict[str, str]:
    """Canonical name -> pinned version."""
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)", line.strip())
        assert match, f"not an exact pin: {line!r}"
        name = canonicalize_name(match[1])
        assert name not in pins, f"pinned twice: {name}"
        pins[name] = match[2]
    return pins


def setting_names() -> set[str]:
    return {field.alias for field in Settings.model_fields.values() if field.alias}


def secret_setting_names() -> set[str]:
    return {
        field.alias
        for field in Settings.model_fields.values()
        if field.alias
        and (field.annotation is SecretStr or SecretStr in typing.get_args(field.annotation))
    }


# --- Dockerfile ----------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_on_slim_python() -> None:
    images = {without_flags(i.args)[0] for i in dockerfile() if i.keyword == "FROM"}
    assert len(stages()) >= 2
    assert images == {"python:3.11-slim"}
    assert "3.11" in SpecifierSet(pyproject()["project"]["requires-python"])


def test_image_runs_as_a_non_root_user() -> None:
    users = final_stage("USER")
    assert users, "the final stage sets no USER"
    user = users[-1].args.split(":")[0]
    assert user not in {"root", "0"}
    runs = " ".join(i.args for i in final_stage("RUN"))
    assert (f"--uid {user}" if user.isdigit() else f" {user}") in runs, "who creates the user?"
    # DATA_DIR is written by that user: a new named volume takes the image's ownership.
    assert re.search(rf"chown \S+ .*{variables('ENV')['DATA_DIR']}\b", runs)


def test_default_command_is_the_bot() -> None:
    cmd = final_stage("CMD")
    assert cmd
    assert exec_form(cmd[-1].args) == ["python", "-m", "bot"]


def test_modules_the_containers_run_exist() -> None:
    commands = [exec_form(final_stage("CMD")[-1].args)]
    commands += [service(name)["command"] for name in APP_SERVICES if "command" in service(name)]
    modules = {command[command.index("-m") + 1] for command in commands}
    assert modules == {"bot", "bot.worker"}
    for module in modules:
        assert (ROOT / module.replace(".", "/") / "__main__.py").is_file(), module


def test_healthcheck_probes_healthz() -> None:
    checks = final_stage("HEALTHCHECK")
    assert len(checks) == 1
    command = exec_form(checks[0].args.split(" CMD ", 1)[1])
    assert command[:2] == ["python", "-c"]
    assert "/healthz" in command[2]
    assert "HTTP_PORT" in command[2]


async def run_healthcheck(port: int) -> int:
    code = exec_form(final_stage("HEALTHCHECK")[0].args.split(" CMD ", 1)[1])[2]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        env={"HTTP_PORT": str(port), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return await process.wait()


async def test_healthcheck_command_follows_the_status() -> None:
    status = {"code": 200}

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": status["code"] == 200}, status=status["code"])

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        assert await run_healthcheck(port) == 0
        status["code"] = 503
        assert await run_healthcheck(port) != 0
    finally:
        await runner.cleanup()
    assert await run_healthcheck(port) != 0  # nothing listens


def test_no_secret_is_baked_in() -> None:
    secret_like = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|_KEY$", re.IGNORECASE)
    assert {"BOT_TOKEN", "SECRET_KEY"} <= secret_setting_names()
    for keyword in ("ENV", "ARG"):
        for name in variables(keyword):
            assert name not in secret_setting_names(), f"{keyword} {name}"
            assert not secret_like.search(name), f"{keyword} {name}"


def test_image_environment() -> None:
    env = variables("ENV")
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["HTTP_HOST"] == "0.0.0.0"
    assert env["DATA_DIR"] == "/data"
    volumes = [
        exec_form(i.args) if i.args.startswith("[") else i.args.split()
        for i in final_stage("VOLUME")
    ]
    assert ["/data"] in volumes
    own = {name for name in env if not name.startswith(("PYTHON", "PIP_")) and name != "PATH"}
    assert own <= setting_names(), f"not settings: {own - setting_names()}"


def test_every_copy_source_is_in_the_build_context() -> None:
    copies = [i for i in dockerfile() if i.keyword in {"COPY", "ADD"}]
    assert copies
    for instruction in copies:
        if "--from=" in instruction.args:
            continue
        *sources, _target = without_flags(instruction.args)
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
            assert not ignored(source), f"COPY {source}: left out by .dockerignore"


def test_build_installs_the_lock_then_the_package_and_compiles_catalogues() -> None:
    runs = " && ".join(i.args for i in stages()[0] if i.keyword == "RUN")
    assert "-r requirements.lock" in runs
    assert "pip install --no-deps ." in runs
    assert runs.index("-r requirements.lock") < runs.index("pip install --no-deps .")
    assert "pybabel compile -d locales -D messages" in runs
    # The compiled catalogues go where the installed package looks for them.
    assert "from bot.i18n import LOCALES_DIR" in runs


def test_installed_package_finds_catalogues_beside_it(tmp_path: Path) -> None:
    """The image's layout: ``bot`` in site-packages, ``locales`` compiled next to it."""
    site = tmp_path / "site-packages"
    shutil.copytree(ROOT / "bot", site / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    sources = tmp_path / "src" / "locales"
    shutil.copytree(ROOT / "locales", sources, ignore=shutil.ignore_patterns("*.mo"))
    pybabel = [sys.executable, "-m", "babel.messages.frontend", "--quiet"]
    subprocess.run([*pybabel, "compile", "-d", str(sources), "-D", "messages"], check=True)
    shutil.copytree(sources, site / "locales")
    script = (
        "import bot, bot.__main__, bot.worker.__main__\n"
        "from bot.i18n import LOCALES_DIR, build_i18n\n"
        "print(bot.__file__)\n"
        "print(LOCALES_DIR)\n"
        "print(*sorted(build_i18n().available_locales))\n"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    module, locales, available = done.stdout.splitlines()
    assert Path(module).is_relative_to(site)
    assert Path(locales) == site / "locales"
    assert "ru" in available.split()


# --- .dockerignore -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [".venv", ".git", ".env", "data", "tests/conftest.py", "locales/ru/LC_MESSAGES/x.mo"]
)
def test_dockerignore_leaves_out(path: str) -> None:
    assert ignored(path)


@pytest.mark.parametrize(
    "path", ["bot/__main__.py", "locales/ru/LC_MESSAGES/messages.po", "pyproject.toml"]
)
def test_dockerignore_keeps(path: str) -> None:
    assert not ignored(path)


def test_dockerignore_keeps_the_readme_the_build_needs() -> None:
    readme = pyproject()["project"]["readme"]
    assert not ignored(readme)


# --- docker-compose.yml --------------------------------------------------------------------


def test_compose_services() -> None:
    assert set(compose()["services"]) == {"bot", "worker", "redis"}


def test_redis_persists_and_reports_health() -> None:
    redis = service("redis")
    assert redis["image"] == "redis:7-alpine"
    command = redis["command"]
    words = command if isinstance(command, list) else shlex.split(command)
    assert words[words.index("--appendonly") + 1] == "yes"
    assert mounts("redis")["/data"] in compose()["volumes"]
    test = redis["healthcheck"]["test"]
    assert "redis-cli ping" in (" ".join(test) if isinstance(test, list) else test)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_share_the_image_and_wait_for_redis(name: str) -> None:
    app = service(name)
    build = app["build"]
    assert (build if isinstance(build, str) else build["context"]) == "."
    assert app["image"] == service("bot")["image"]
    assert app["restart"] == "unless-stopped"
    env_file = app["env_file"]
    assert (env_file if isinstance(env_file, list) else [env_file]) == [".env"]
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_environment(name: str) -> None:
    """What .env.example would get wrong inside a container is overridden."""
    env = environment(name)
    assert set(env) <= setting_names(), f"not settings: {set(env) - setting_names()}"
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["HTTP_HOST"] == "0.0.0.0"
    assert env["DATA_DIR"] == variables("ENV")["DATA_DIR"]
    assert not set(env) & secret_setting_names(), "secrets belong in .env"


def test_bot_and_workers_share_the_data_volume() -> None:
    """The generated secret key lives there: every process must encrypt with the same one."""
    data_dir = environment("bot")["DATA_DIR"]
    volume = mounts("bot")[data_dir]
    assert volume in compose()["volumes"]
    assert mounts("worker")[environment("worker")["DATA_DIR"]] == volume


def test_bot_leaves_the_worker_to_its_service_and_publishes_http() -> None:
    bot = service("bot")
    assert exec_form(json.dumps(bot.get("command", ["python", "-m", "bot"]))) == [
        "python",
        "-m",
        "bot",
    ]
    assert environment("bot")["RUN_WORKER"] == "0"
    published = [interpolate(str(port)) for port in bot["ports"]]
    default_port = Settings.model_fields["http_port"].default
    assert any(port.rsplit(":", 1)[-1] == str(default_port) for port in published)


def test_worker_runs_the_worker_module_and_scales() -> None:
    worker = service("worker")
    command = worker["command"]
    assert (command if isinstance(command, list) else shlex.split(command)) == [
        "python",
        "-m",
        "bot.worker",
    ]
    # --scale needs no fixed name and no host port.
    assert "container_name" not in worker
    assert "ports" not in worker


# --- requirements.lock ---------------------------------------------------------------------


def test_lock_pins_every_runtime_dependency() -> None:
    for requirement in runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in lock(), f"{name} is in pyproject.toml but not in the lock: make lock"
        assert requirement.specifier.contains(lock()[name], prereleases=True), (
            f"{name}=={lock()[name]} does not satisfy {requirement.specifier}: make lock"
        )


def test_lock_holds_neither_the_project_nor_test_tools() -> None:
    assert canonicalize_name(pyproject()["project"]["name"]) not in lock()
    tools = {
        canonicalize_name(Requirement(r).name)
        for r in pyproject()["project"]["optional-dependencies"]["test"]
    }
    runtime = {canonicalize_name(r.name) for r in runtime_requirements()}
    assert not (tools - runtime) & set(lock())


def closure() -> Iterator[tuple[str, str]]:
    """(required by, requirement name) over the installed dependency tree, where the installed
    versions are the locked ones (another version may require other things)."""
    queue = [("pyproject.toml", requirement) for requirement in runtime_requirements()]
    seen: set[str] = set()
    while queue:
        parent, requirement = queue.pop()
        name = canonicalize_name(requirement.name)
        yield parent, name
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if dist.version != lock().get(name):
            continue
        for line in dist.requires or []:
            child = Requirement(line)
            extras = requirement.extras or {""}
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in extras):
                queue.append((name, child))


def test_lock_pins_the_dependencies_of_dependencies() -> None:
    missing = {(parent, name) for parent, name in closure() if name not in lock()}
    assert not missing, f"required but not locked (make lock): {sorted(missing)}"


def test_makefile_regenerates_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\.PHONY:.*\block\b", makefile, re.MULTILINE)
    assert re.search(r"^lock:", makefile, re.MULTILINE)
