"""How this project runs Pulumi: which CLI, which state backend, which secrets.

One place decides it, for the shell wrapper (`scripts/pulumi`), the fabric
layer and the tests alike:

- the CLI: `.tools/bin/pulumi` built by `scripts/setup` when present (with its
  language host beside it), else a `pulumi` already on PATH;
- the program's Python: the interpreter running this code (its virtualenv's
  `bin/` comes first on PATH), so a project without a `virtualenv` option runs
  with the installed package;
- plugins: `$PULUMI_HOME`, in a checkout by default `.pulumi/home` in it, where
  `scripts/setup` installs the Kubernetes provider it built (shared by every
  project directory the toolchain runs, such as the tests' copies); installed
  from a wheel, Pulumi's own default (`~/.pulumi`);
- state: a local file backend in the project's `.pulumi/state` unless
  `PULUMI_BACKEND_URL` is set (any Pulumi backend works);
- secrets: the passphrase provider, with a random passphrase generated once into
  the project's `.pulumi/passphrase` (owner-only) unless `PULUMI_CONFIG_PASSPHRASE`
  or `PULUMI_CONFIG_PASSPHRASE_FILE` is set.

Every variable the user already set wins; nothing is downloaded at run time.

Run as `python -m clusterfabric.toolchain ARGS...` it execs `pulumi ARGS...`.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from pulumi import automation as auto

PROJECT_DIR = Path(__file__).resolve().parent.parent
"""The checkout this code runs from (installed from a wheel: the site-packages folder, see IN_CHECKOUT)."""
IN_CHECKOUT = (PROJECT_DIR / "Pulumi.yaml").is_file() and (PROJECT_DIR / "components").is_dir()
"""Whether this code runs from the project's checkout (its own project, tools and plugins) or was installed."""
TOOLS = PROJECT_DIR / ".tools"
"""Where `scripts/setup` builds the CLI and its language host (`bin/`)."""


def state_dir(project_dir: Path = PROJECT_DIR) -> Path:
    """The project's private folder for state, plugins and the passphrase."""
    return project_dir / ".pulumi"


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by its owner only from the first byte (its folder too, if new)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def ensure_passphrase(project_dir: Path = PROJECT_DIR) -> Path:
    """Create the project's passphrase file once, readable by its owner only."""
    path = state_dir(project_dir) / "passphrase"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return path


class BackendError(RuntimeError):
    """No Pulumi backend to read the stacks from: a run could say nothing true about them."""


def check_backend(env: Mapping[str, str]) -> None:
    """Raise BackendError when `env` names no backend the CLI could use.

    An empty variable is what a workflow gets for a secret it may not read (a fork's pull request): the CLI
    would fall back to Pulumi Cloud and fail on every stack; say what is missing once, before any stack runs."""
    if env.get("PULUMI_BACKEND_URL") == "" and not env.get("PULUMI_ACCESS_TOKEN"):
        raise BackendError("PULUMI_BACKEND_URL is set but empty, and no PULUMI_ACCESS_TOKEN: no backend holds the "
                           "stacks (a fork's pull request gets no secrets). Set the backend and its credentials, or "
                           "run `clusterfabric plan --offline` for a plan under mocks that needs neither")


def pulumi_env(project_dir: Path = PROJECT_DIR, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment to run the Pulumi CLI with for `project_dir`."""
    env = dict(os.environ if base is None else base)
    tools = TOOLS / "bin"
    venv_bin = PROJECT_DIR / ".venv" / "bin"
    # The program runs with this interpreter's packages (a project naming no virtualenv uses `python3` on PATH).
    running = Path(sys.executable).parent if sys.prefix != sys.base_prefix else None
    path = [str(p) for p in dict.fromkeys((tools, venv_bin, running)) if p is not None and p.is_dir()]
    env["PATH"] = os.pathsep.join(path + [env.get("PATH", "")])
    if IN_CHECKOUT:
        env.setdefault("PULUMI_HOME", str(state_dir(PROJECT_DIR) / "home"))
    if "PULUMI_BACKEND_URL" not in env:
        backend = state_dir(project_dir) / "state"
        backend.mkdir(parents=True, exist_ok=True)
        env["PULUMI_BACKEND_URL"] = backend.as_uri()
    if "PULUMI_CONFIG_PASSPHRASE" not in env and "PULUMI_CONFIG_PASSPHRASE_FILE" not in env:
        env["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(ensure_passphrase(project_dir))
    # No download site is reachable: fail fast and clearly instead of trying.
    env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    env.setdefault("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
    return env


def pulumi_command(env: Mapping[str, str]) -> str:
    """The `pulumi` executable that `env`'s PATH resolves to."""
    for folder in env.get("PATH", "").split(os.pathsep):
        candidate = Path(folder) / "pulumi"
        if folder and candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise SystemExit("pulumi: no Pulumi CLI found; run scripts/setup first")


def run_pulumi(env: Mapping[str, str], project_dir: Path, args: list[str], stdin: str | None = None
               ) -> subprocess.CompletedProcess[str]:
    """One non-interactive CLI command in `project_dir` (the caller reads its status and output)."""
    return subprocess.run([pulumi_command(env), *args, "--non-interactive"], cwd=project_dir, env=dict(env),
                          input=stdin, capture_output=True, text=True, timeout=600)


def automation_command() -> auto.PulumiCommand:
    """The CLI for the Automation API, chosen as for the shell: the one `scripts/setup` built, else `pulumi` on
    PATH."""
    from pulumi import automation as auto  # here: the shell wrapper starts without the SDK

    if (TOOLS / "bin" / "pulumi").is_file():
        return auto.PulumiCommand(root=str(TOOLS))
    return auto.PulumiCommand()


# What a cluster program needs; the rest of the repository stays out of a copy of it (the program's code is the
# installed package's, clusterfabric.components).
PROGRAM_FILES = ("Pulumi.yaml", "__main__.py", "config", "stacks")


def copy_program(destination: Path, source: Path = PROJECT_DIR) -> Path:
    """Copy the cluster program to `destination`, using the repository's virtualenv."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in PROGRAM_FILES:
        path = source / name
        if path.is_dir():
            # Stack files are per machine (they carry its encryption salt): a copy starts without them.
            shutil.copytree(path, destination / name, ignore=shutil.ignore_patterns("__pycache__", "Pulumi.*.yaml"))
        else:
            shutil.copy2(path, destination / name)
    point_at_venv(destination / "Pulumi.yaml")
    return destination


def project_plugins(project_dir: Path) -> set[str]:
    """The provider plugins the project's Pulumi.yaml names by path (`plugins.providers`): the engine loads those
    as it loads installed ones."""
    import yaml  # only the fabric layer asks, once per run

    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    return {provider["name"] for provider in (project.get("plugins") or {}).get("providers") or []}


def point_at_venv(project_file: Path) -> None:
    """Make a copied Pulumi.yaml (or PulumiPolicy.yaml) name the project's .venv, whatever relative path it gave."""
    text = project_file.read_text()
    project_file.write_text(re.sub(r"virtualenv: \S+", f"virtualenv: {PROJECT_DIR / '.venv'}", text))



def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    project_dir = Path(os.environ.get("CLUSTERFABRIC_PROJECT", PROJECT_DIR))
    env = pulumi_env(project_dir)
    pulumi = pulumi_command(env)
    os.execve(pulumi, [pulumi, *args], env)


if __name__ == "__main__":
    main()
