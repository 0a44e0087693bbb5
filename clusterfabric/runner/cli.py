"""The `clusterfabric` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

from clusterfabric.components.contract import default_fabric_dir
from clusterfabric.components.model import InputError, check_fabric, load_fabric
from clusterfabric.components.model.load import reading_once

from ..gitops.comment import GitError
from ..gitops.emit import MAX_JOBS
from ..local.kubeapi import ControlPlaneError
from ..toolchain import BackendError
from .locks import DEFAULT_LOCK_TIMEOUT
from .project import NoProjectError, home_of
from .stack_move import MoveError


def validate(fabric_dir: Path) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the fabric at `fabric_dir`, one line each; no problems when valid."""
    try:
        problems, warnings = check_fabric(load_fabric(fabric_dir))
    except InputError as err:
        return [str(p) for p in err.problems], []
    return [str(p) for p in problems], [str(w) for w in warnings]


def version() -> str:
    """This package's version and the Pulumi version it is pinned to (requirements.txt; scripts/setup
    installs that CLI)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        own = installed("clusterfabric")
    except PackageNotFoundError:  # run from a checkout without `pip install -e .`
        own = "(not installed)"
    return f"clusterfabric {own} (Pulumi v{installed('pulumi')})"


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        sys.exit(args.run(args))
    except InputError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        sys.exit(1)
    except KeyError as err:
        print(f"clusterfabric: {err.args[0]}", file=sys.stderr)
        sys.exit(1)
    except (ControlPlaneError, BackendError, GitError, NoProjectError, MoveError) as err:
        print(f"clusterfabric: {err}", file=sys.stderr)
        sys.exit(1)
    except Exception as err:  # never a traceback: say what failed, in one line
        print(f"clusterfabric: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    """The command line: each command runs as `args.run(args)`, which returns the exit status."""
    parser = argparse.ArgumentParser(prog="clusterfabric", description=__doc__)
    parser.add_argument("--version", action="version", version=version())
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, run: Callable[[argparse.Namespace], int], summary: str) -> argparse.ArgumentParser:
        added = commands.add_parser(name, help=summary)
        added.set_defaults(run=run)
        return added

    made = command("init", init_command, "make a directory a fabric repository of its own: fabric.yaml, cluster "
                   "folders, its Pulumi project, the workflows, .gitignore (files already there are kept)")
    made.add_argument("directory", nargs="?", type=Path, default=Path("."), help="default: the current directory")
    made.add_argument("--move-stacks-from", type=Path, metavar="PROJECT",
                      help="the Pulumi project an earlier release kept this fabric's stacks in, to move them here "
                      "(default: the checkout clusterfabric runs from, if it does)")
    checked = command("validate", validate_command, "check a fabric's manifests offline")
    _fabric_dir_option(checked)
    checked.add_argument("--deployed", action="store_true", help="also warn about the deployed certificates that "
                         "expire soon (reads the stacks' outputs: needs the backend)")
    offline = command("plan", plan_command, "what each stack would declare, evaluated under mocks")
    offline.add_argument("--offline", action="store_true", required=True,
                         help="evaluate under Pulumi's mocks: no engine, no credentials (the only mode so far)")
    _fabric_dir_option(offline)
    offline.add_argument("--stack", action="append", help="only this stack (repeatable; default: all)")
    offline.add_argument("--json", action="store_true", help="print the plan as JSON")
    for operation, summary in (("up", "deploy the fabric's stacks"),
                               ("refresh", "refresh the stacks' state from the clusters")):
        _fabric_options(command(operation, operation_command, summary))
    preview = command("preview", operation_command, "preview the fabric's stacks")
    _fabric_options(preview)
    preview.add_argument("--refresh", action="store_true", help="read the stacks' resources first (drift), writing "
                         f"no state; exit {EXIT_DRIFT} when every stack previewed and some would change")
    destroy = command("destroy", operation_command, "destroy the stacks (in reverse dependency order)")
    _fabric_options(destroy)
    destroy.add_argument("--yes", action="store_true", help="do not ask for confirmation (required without a terminal)")
    destroy.add_argument("--removed", action="store_true", help="instead: destroy and remove the stacks of the "
                         "backend whose cluster is no longer in fabric.yaml (no program runs; refused while a stack "
                         "of the fabric still reads one)")
    servers = command("apiservers", apiservers_command, "local control planes: a real kube-apiserver and etcd per "
                      "cluster, on loopback (built by scripts/setup); with --nodes, real single-node clusters")
    servers.add_argument("action", choices=("start", "stop", "status"))
    _fabric_dir_option(servers)
    servers.add_argument("--crds", type=Path, help="CRDs to install (default: the upstream CRDs in clusterfabric/crds)")
    servers.add_argument("--nodes", action="store_true", help=NODES_HELP)
    _fabric_dir_option(command("rotate-passphrase", rotate_passphrase_command, "re-encrypt every stack's secrets "
                               "under a new random passphrase (all stacks or none) and keep it in the passphrase file"))
    rotation = command("rotate-certificates", rotate_certificates_command, "renew a peer's certificate, or roll the "
                       "fabric CA over (trust both, reissue, drop the old), one up per phase; run again to resume")
    _fabric_options(rotation, stacks=False)
    rotated = rotation.add_mutually_exclusive_group(required=True)
    rotated.add_argument("--peer", help="issue this peer's certificate again (a new key, the same fabric CA)")
    rotated.add_argument("--fabric-ca", action="store_true", help="roll the fabric CA over: every peer trusts the "
                         "old and a new CA, then gets a certificate of the new one, then drops the old")
    clear = command("clear-pending", clear_pending_command, "drop the operations an interrupted run left pending in "
                    "a stack's state (the next up makes their resources again)")
    _fabric_dir_option(clear)
    clear.add_argument("--stack", action="append", required=True, help="the stack (repeatable)")
    drawn = command("graph", graph_command, "the fabric's dependency graph: a picture (Mermaid, DOT), a GitHub "
                    "Actions workflow (a job per stack) or Pulumi Kubernetes Operator Stacks")
    _fabric_dir_option(drawn)
    drawn.add_argument("--format", choices=GRAPH_FORMATS, default="mermaid",
                       help="github-actions: a reusable workflow, one job per stack with `needs:` (per wave with a "
                       "matrix beyond --max-jobs stacks); operator: a pulumi.com/v1 Stack per stack with "
                       "`prerequisites` (needs --repo and --backend)")
    drawn.add_argument("--max-jobs", type=int, default=MAX_JOBS, help="github-actions: one job per stack up to this "
                       f"many stacks, else a job per wave (default {MAX_JOBS}, GitHub's matrix limit)")
    drawn.add_argument("--repo", help="operator: the fabric's git repository URL (spec.projectRepo)")
    drawn.add_argument("--branch", default="main", help="operator: the branch to deploy (default main)")
    drawn.add_argument("--backend", help="operator: the Pulumi backend URL the stacks live in (spec.backend)")
    drawn.add_argument("--namespace", help="operator: the Stacks' namespace (default: the project's name)")
    drawn.add_argument("--secret", default="clusterfabric", help="operator: the Secret in that namespace holding "
                       "PULUMI_CONFIG_PASSPHRASE (and PULUMI_ACCESS_TOKEN for an https backend); default clusterfabric")
    drawn.add_argument("--organization", default="organization", help="operator: the stacks' organization "
                       "(default `organization`, what a self-managed backend names it)")
    comment = command("comment", comment_command, "preview what changed since a git ref, as a PR comment")
    _fabric_options(comment)
    comment.add_argument("--base", required=True, help="git ref the change is compared with (e.g. origin/main)")
    comment.add_argument("--output", type=Path, help="write the Markdown here (default: stdout)")
    iperf3 = command("iperf3", iperf3_command, "ClusterLink's iperf3 example, for real on this machine (root): "
                     "an API server per cluster, the real control and data planes, iperf3 through them")
    iperf3.add_argument("--fabric", type=Path, help="a fabric whose clusters are named server and client, server "
                        "exporting default/iperf3-server and client importing it (default: examples/iperf3)")
    iperf3.add_argument("--seconds", type=int, choices=range(1, 61), default=5, metavar="1-60",
                        help="length of each transfer (default 5)")
    iperf3.add_argument("--work-dir", type=Path, help="keep the run's files (logs, state) here instead of a "
                        "temporary folder removed at the end")
    iperf3.add_argument("--nodes", action="store_true", help="on local clusters with real nodes instead (kubelet, "
                        "containerd, kube-proxy, CoreDNS; built by scripts/setup): the platform and iperf3 as pods")
    return parser


def init_command(args: argparse.Namespace) -> int:
    from ..toolchain import IN_CHECKOUT, PROJECT_DIR
    from .init import init_fabric
    from .stack_move import move_stacks, stacks_elsewhere

    directory = args.directory.absolute()
    for written in init_fabric(directory):
        print(f"{'kept' if written.kept else 'wrote'} {written.path.relative_to(directory)}")
    old = args.move_stacks_from or (PROJECT_DIR if IN_CHECKOUT else None)
    clusters = {c.name for c in load_fabric(directory).spec.clusters}  # and its manifests, checked before a move
    stacks = stacks_elsewhere(old.absolute(), directory, clusters) if old else []
    if stacks:
        print(f"moving {len(stacks)} stacks of this fabric from {old}: {', '.join(stacks)}", file=sys.stderr)
        move_stacks(old.absolute(), directory, stacks, progress=lambda line: print(line, file=sys.stderr))
    elif args.move_stacks_from:
        print(f"{old}: no stacks of this fabric there", file=sys.stderr)
    shown = "." if directory == Path.cwd() else str(args.directory)
    print(f"{shown}: a fabric repository; next: `clusterfabric validate`, then `clusterfabric up`, in it")
    return 0


def validate_command(args: argparse.Namespace) -> int:
    problems, warnings = validate(args.fabric)
    if args.deployed and not problems:
        from .fabric import Fabric

        expiring = Fabric(args.fabric.absolute()).certificate_expiry()
        problems += [str(e) for e in expiring if e.expired]
        warnings += [str(e) for e in expiring if not e.expired]
    for line in problems:
        print(line, file=sys.stderr)
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    if problems:
        return 1
    print(f"{args.fabric}: valid")
    return 0


def rotate_passphrase_command(args: argparse.Namespace) -> int:
    from .fabric import Fabric
    from .passphrase import RotationError

    try:
        Fabric(args.fabric.absolute()).rotate_passphrase(progress=lambda line: print(line, file=sys.stderr))
    except RotationError as err:
        print(f"clusterfabric: {err}", file=sys.stderr)
        return 1
    return 0


def rotate_certificates_command(args: argparse.Namespace) -> int:
    from .rotation import RotationError

    fabric = _fabric(args)
    try:
        with _stopped_on_signals():
            done = fabric.rotate_certificates(peer=args.peer, fabric_ca=args.fabric_ca,
                                              progress=lambda line: print(f"==> {line}", file=sys.stderr, flush=True))
    except RotationError as err:
        print(f"clusterfabric: {err}", file=sys.stderr)
        return 1
    for phase in done.phases:
        print(f"{phase.name}:\n{table(phase.result)}")
    return 0 if done.ok else 1


def clear_pending_command(args: argparse.Namespace) -> int:
    from .fabric import Fabric

    fabric = Fabric(args.fabric.absolute())
    for stack in args.stack:
        cleared = fabric.clear_pending(stack)
        print(f"{stack}: cleared {len(cleared)} pending operations" + "".join(f"\n  {c}" for c in cleared))
    return 0


GRAPH_FORMATS = ("mermaid", "dot", "github-actions", "operator")


def graph_command(args: argparse.Namespace) -> int:
    from ..gitops import emit
    from ..gitops.graph import dot, mermaid

    fabric = load_fabric(args.fabric)
    if args.format in ("mermaid", "dot"):
        print(mermaid(fabric) if args.format == "mermaid" else dot(fabric))
        return 0
    if args.format == "github-actions":
        print(emit.workflow_text(fabric, args.fabric, args.max_jobs), end="")
        return 0
    if not args.repo or not args.backend:
        print("clusterfabric: --format operator needs --repo (the fabric's git URL) and --backend (where its "
              "stacks live)", file=sys.stderr)
        return 2
    from .project import project_name, project_of

    project_dir = project_of(args.fabric.absolute())
    project = project_name(project_dir)
    stacks = emit.operator_stacks(
        fabric, project=project, repo=args.repo, branch=args.branch, repo_dir=_in_repository(project_dir),
        fabric_path=os.path.relpath(args.fabric.absolute(), project_dir), backend=args.backend,
        namespace=args.namespace or project, secret=args.secret, organization=args.organization)
    print(emit.dump(stacks, f"Generated by `clusterfabric graph --format operator` from {args.fabric / 'fabric.yaml'}"
                    ": edit that and generate them again.\nStacks of the Pulumi Kubernetes Operator v2 (its CRD: "
                    "clusterfabric/crds/pulumi-kubernetes-operator)."), end="")
    return 0


def _in_repository(directory: Path) -> str:
    """`directory`'s path inside its git repository (the operator's repoDir); `.` outside one."""
    for top in (directory, *directory.parents):
        if (top / ".git").exists():
            return os.path.relpath(directory, top)
    return "."


IPERF3_DEADLINE = 600
"""Seconds the whole `iperf3` run may take, setup of the local API servers included, before it is stopped."""


def iperf3_command(args: argparse.Namespace) -> int:
    import os
    import signal
    import tempfile

    from ..local.images import ImageError
    from ..local.iperf3 import EXAMPLE, run_example
    from ..local.kubeapi import ControlPlaneError
    from ..local.localfabric import LocalRunError
    from ..local.netns import NetworkError
    from ..local.nodefabric import NodeRunError, run_example_on_nodes
    from ..local.pods import PodError

    if os.geteuid() != 0:
        print("clusterfabric: iperf3 needs root: it makes network and mount namespaces", file=sys.stderr)
        return 1

    def stop(signum, _frame):  # leave through the finally blocks, so every process and namespace goes
        raise KeyboardInterrupt(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGALRM, lambda *_: stop(f"SIGALRM after {IPERF3_DEADLINE}s", None))
    signal.alarm(IPERF3_DEADLINE)
    progress = lambda line: print(f"==> {line}", file=sys.stderr, flush=True)  # noqa: E731
    try:
        with tempfile.TemporaryDirectory(prefix="clusterfabric-iperf3-") as scratch:
            work_dir = args.work_dir.resolve() if args.work_dir else Path(scratch)
            example = run_example_on_nodes if args.nodes else run_example
            through, direct = example(work_dir, args.seconds, progress, (args.fabric or EXAMPLE).resolve())
    except (LocalRunError, NetworkError, PodError, NodeRunError, ControlPlaneError, ImageError) as err:
        print(f"clusterfabric: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as err:
        print(f"clusterfabric: {err or 'interrupted'}; everything started was stopped", file=sys.stderr)
        return 130
    finally:
        signal.alarm(0)
    for label, done in (("through ClusterLink", through), ("within server" if args.nodes else "directly", direct)):
        print(f"{label:>20}: " + (f"{done.bits_per_second / 1e9:.2f} Gbit/s, {done.received / 1e6:.0f} MB"
                                  if done.completed else f"failed: {done.error}"))
    if through.completed and direct.completed:
        print(f"{'ratio':>20}: {through.bits_per_second / direct.bits_per_second:.2f}")
    return 0 if through.completed else 1


def plan_command(args: argparse.Namespace) -> int:
    from ..offline.plan import plan

    started = time.monotonic()

    def progress(stack: str, entry: dict) -> None:  # while it runs; the result is what stdout gets at the end
        print(f"plan: {stack} {'failed' if entry.get('errors') else 'planned'} ({time.monotonic() - started:.1f} s)",
              file=sys.stderr)

    fabric_dir = args.fabric.resolve()
    with reading_once():  # and handed to each stack's evaluation
        result = plan(home_of(fabric_dir), fabric_dir, args.stack, progress=progress)
    failed = [s for s, entry in result["stacks"].items() if entry.get("errors")]
    if args.json:
        # Stacks in dependency order (as run), everything inside them sorted.
        stacks = {s: json.loads(json.dumps(entry, sort_keys=True, default=str)) for s, entry in result["stacks"].items()}
        print(json.dumps({"stacks": stacks}, indent=2, default=str))
    else:
        for stack, entry in result["stacks"].items():
            print(f"{stack}: failed" if entry.get("errors") else f"{stack}: {len(entry['resources'])} resources")
            for message in entry["warnings"]:
                print(f"  warning: {message}")
            for message in entry.get("errors", []):
                print(f"  error: {message}")
    return 1 if failed else 0


def _fabric_dir_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--fabric", type=Path, default=_default_fabric(),
                         help="fabric directory, from the current directory (default: the current directory when it "
                         "holds a fabric.yaml, else config)")


def _default_fabric() -> Path:
    return default_fabric_dir(Path("."))


def _fabric_options(command: argparse.ArgumentParser, stacks: bool = True) -> None:
    _fabric_dir_option(command)
    if stacks:
        command.add_argument("--stack", action="append", help="only this stack (repeatable; default: all)")
    command.add_argument("--parallel", type=int, default=1, help="stacks run at once when independent (default 1)")
    command.add_argument("-v", "--verbose", action="store_true", help="also print each resource step as it happens")
    command.add_argument("--force", action="store_true",
                         help="remove exports others still import or everything a stack shares, destroy stacks others "
                         "still read")
    command.add_argument("--policy-pack", action="append", help="CrossGuard policy pack directory "
                         "(repeatable; default: the project's policy/)")
    command.add_argument("--apiservers", action="store_true",
                         help="apply to local control planes, one real API server per cluster (started if needed, "
                         "CRDs installed), instead of rendering manifests; objects are read back after up")
    command.add_argument("--crds", type=Path, help="with --apiservers: the CRDs to install "
                         "(default: the upstream CRDs in clusterfabric/crds)")
    command.add_argument("--nodes", action="store_true", help="with --apiservers: " + NODES_HELP)
    command.add_argument("--kubeconfig", action="append", metavar="CLUSTER=PATH", default=[],
                         help="apply this cluster's stack with this kubeconfig instead of rendering (repeatable)")
    command.add_argument("--render", action="store_true",
                         help="render the stacks' manifests again, moving their objects off the API servers an "
                         "earlier run targeted (without a flag, a stack keeps its target)")
    command.add_argument("--lock-timeout", type=_seconds, default=DEFAULT_LOCK_TIMEOUT, metavar="SECONDS",
                         help="while another run holds a stack's lock (a shared backend), wait up to this long, "
                         f"then run; past it the stack is refused, naming the holder (default {DEFAULT_LOCK_TIMEOUT:.0f})")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of seconds, 0 or more")
    return value


def _cluster_names(args: argparse.Namespace) -> list[str]:
    return [c.name for c in load_fabric(args.fabric).spec.clusters]


NODES_HELP = ("each ClusterLink cluster a real single-node cluster (kubelet, containerd, kube-proxy, CoreDNS, "
              "controllers; root only); a cluster started so before stays one without the flag")


class LocalClusterError(ControlPlaneError):
    """The fabric's local clusters cannot be started or stopped as asked (the message says why)."""


def _control_planes(args: argparse.Namespace, clusters: list[str], start: bool) -> dict:
    """The fabric's local clusters (`.apiservers/` of its home), started when `start`: cluster -> (its kubeconfig,
    whether it has controllers, its API server's URL or None when stopped)."""
    from ..local.apiserver import default_crds, start_all
    from ..local.nodefabric import local_clusters, start_nodes

    model = load_fabric(args.fabric)
    nodes, planes = local_clusters(model, home_of(args.fabric.absolute()) / ".apiservers",
                                   nodes=getattr(args, "nodes", False))
    nodes = {name: node for name, node in nodes.items() if name in clusters}
    planes = {name: plane for name, plane in planes.items() if name in clusters}
    progress = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    if nodes and (start or args.command == "apiservers" and args.action == "stop") and os.geteuid() != 0:
        raise LocalClusterError(f"clusters with a node ({', '.join(nodes)}) need root: they make network namespaces, "
                                "cgroups and mounts (run as root, or without --nodes after removing their folders)")
    if start:
        start_all(planes, args.crds or default_crds(), progress=progress)
        start_nodes(model, nodes, args.crds, progress=progress)
    found = {name: (plane.kubeconfig, False, plane.url if plane.running() else None, plane)
             for name, plane in planes.items()}
    found.update({name: (node.plane.kubeconfig, True, node.plane.url if node.running() else None, node)
                  for name, node in nodes.items()})
    return {name: found[name] for name in clusters if name in found}


def _fabric(args: argparse.Namespace):
    from .fabric import Fabric

    def progress(event) -> None:
        # A stack's start and end, policies and errors always; each resource step only when asked (a fabric's
        # up makes hundreds, and the table at the end counts them).
        if (event.kind == "step" and not args.verbose) or (event.kind == "diagnostic" and "error" not in event.message):
            return
        first, *rest = event.message.splitlines() or [""]  # a step: its object, then its changed fields
        print("\n".join([f"[{event.stack}] {event.kind}: {first}", *(f"[{event.stack}] {line}" for line in rest)]),
              file=sys.stderr, flush=True)

    return Fabric(args.fabric.absolute(), parallel=args.parallel, force=args.force, on_event=progress,
                  policy_packs=args.policy_pack, targets=_targets(args), lock_timeout=args.lock_timeout)


def _targets(args: argparse.Namespace) -> dict:
    """Where the options send each cluster's objects: back into files (--render), to the local control planes
    (--apiservers, started), to a kubeconfig's API server (--kubeconfig CLUSTER=PATH). A cluster not named keeps
    its target."""
    from .fabric import ClusterTarget

    targets: dict = {}
    clusters = _cluster_names(args) if args.render or args.apiservers else []
    if args.render:
        targets = dict.fromkeys(clusters)
    if args.apiservers:
        targets = {name: ClusterTarget(kubeconfig, controllers=controllers)
                   for name, (kubeconfig, controllers, _, _) in _control_planes(args, clusters, start=True).items()}
    for given in args.kubeconfig:
        cluster, _, path = given.partition("=")
        if not path or not Path(path).is_file():
            raise KeyError(f"--kubeconfig {given}: expected CLUSTER=PATH of a kubeconfig file")
        targets[cluster] = ClusterTarget(Path(path))
    return targets


def table(result) -> str:
    """The final table: stack, result, creates/updates/replaces/deletes, duration; after a preview, each stack's
    changes: every object, its changed fields old -> new (changes.py, as the pull-request comment shows them)."""
    from ..gitops.report import COLUMNS, row
    from .changes import lines as shown

    rows = [COLUMNS, *(row(s) for s in result.stacks)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += [f"fabric: {note}" for note in result.notes]
    lines += [f"{'error' if e.expired else 'warning'}: {e}" for e in result.expiring]
    for s in result.stacks:
        if result.operation == "preview" and s.steps:
            lines.append(f"{s.stack}: changes")
            lines += [f"  {line}" for step in s.steps for line in shown(step)]
        if s.message and (not s.ok or s.result in ("planned offline", "not applicable")):
            lines.append(f"{s.stack}: {s.message}")
        lines += [f"{s.stack}: policy [{p['level']}] {p['policy']} ({p['resource']}): {p['message']}"
                  for p in s.policy if s.ok]
        lines += [f"{s.stack}: {d}" for d in s.drift]
        # The provider warns when it checks such an object, and again naming the file it writes: count the files
        # (an up), or else the objects (a preview).
        files = {w for w in s.warnings if w.startswith("rendered file") and w.endswith("in plaintext")}
        plaintext = len(files) or sum(w.startswith("rendered YAML will contain a secret") for w in s.warnings)
        if plaintext:
            lines.append(f"{s.stack}: {plaintext} rendered objects hold secret values in plaintext (the provider's "
                         "warning; docs/secrets.md says how to ship them)")
        if s.ok and s.read_back == [] and s.message.startswith("read back"):
            lines.append(f"{s.stack}: {s.message}")
    return "\n".join(lines)


def _stopped_on_signals():
    """A fabric run's guard: on SIGINT/SIGTERM every process it started is stopped (clusterfabric.runner.processes)."""
    from .processes import stopped_on_signals

    return stopped_on_signals(on_stop=lambda line: print(f"clusterfabric: {line}", file=sys.stderr, flush=True))


EXIT_DRIFT = 4
"""`preview --refresh`: every stack previewed, and some would change (what drifted, or what is not deployed yet)."""


def confirmed_destroy(args: argparse.Namespace) -> bool:
    """Whether to go on with `destroy`: --yes, or the user typing yes at a terminal."""
    if args.yes:
        return True
    stacks = ", ".join(args.stack) if args.stack else f"every stack of {args.fabric}"
    if args.removed:
        stacks = f"the stacks whose cluster is no longer in {args.fabric / 'fabric.yaml'}"
    if not sys.stdin.isatty():
        print(f"clusterfabric: destroy ({stacks}) deletes every resource of those stacks; not run from a terminal, "
              "so it needs --yes", file=sys.stderr)
        return False
    answer = input(f"Destroy {stacks}: every resource they declare? Type yes to go on: ")
    return answer.strip() == "yes"


def operation_command(args: argparse.Namespace) -> int:
    if getattr(args, "removed", False) and args.stack:
        print("clusterfabric: destroy --removed destroys the stacks fabric.yaml no longer names; --stack does not "
              "apply", file=sys.stderr)
        return 2
    if args.command == "destroy" and not confirmed_destroy(args):
        print("clusterfabric: destroy not confirmed; nothing changed", file=sys.stderr)
        return 1
    from ..gitops.report import exit_status

    fabric = _fabric(args)
    with _stopped_on_signals():
        result = _operation(fabric, args)
    print(table(result))
    status = exit_status(result)
    drifted = any(s.result == "succeeded" and s.changes.get(k) for s in result.stacks
                  for k in ("create", "update", "replace", "delete"))  # a real preview's changes, not a mock plan's
    return EXIT_DRIFT if getattr(args, "refresh", False) and status in (0, 3) and drifted else status


def _operation(fabric, args: argparse.Namespace):
    """The command's operation over the fabric: `preview --refresh` and `destroy --removed` are their own kinds."""
    if args.command == "preview":
        return fabric.preview(args.stack, refresh=args.refresh)
    if args.command == "destroy" and args.removed:
        return fabric.destroy_removed()
    return getattr(fabric, args.command)(args.stack)


def apiservers_command(args: argparse.Namespace) -> int:
    """start, stop or status of the fabric's local clusters: an API server and etcd each, or (--nodes, or started so
    before) a real single-node cluster for each ClusterLink cluster. Their processes outlive the command: state files
    in each cluster's folder name them by PID, for a later stop."""
    from ..local.images import ImageError
    from ..local.kubeapi import ControlPlaneError
    from ..local.nodefabric import NodeRunError

    try:
        clusters = _control_planes(args, _cluster_names(args), start=args.action == "start")
        problems = []
        if args.action == "stop":  # all of them before any output: a closed pipe must not stop this half-way
            for name, (*_, cluster) in clusters.items():
                found = cluster.stop()
                problems += [f"{name}: {problem}" for problem in found or []]
            clusters = _control_planes(args, _cluster_names(args), start=False)
    except (ControlPlaneError, ImageError, NodeRunError) as err:
        print(f"clusterfabric: {err}", file=sys.stderr)
        return 1
    for name, (kubeconfig, nodes, url, _) in clusters.items():
        kind = "a cluster with a node" if nodes else "an API server"
        state = f"running at {url}" if url else "stopped"
        print(f"{name}: {kind}, {state} (kubeconfig {kubeconfig})")
    for problem in problems:
        print(f"clusterfabric: not removed: {problem}", file=sys.stderr)
    return 1 if problems else 0


def comment_command(args: argparse.Namespace) -> int:
    from ..gitops.comment import pr_comment
    from ..gitops.report import exit_status

    if args.stack:
        print("clusterfabric: comment previews exactly the stacks the change since --base affects, so --stack "
              "does not apply; for chosen stacks use `clusterfabric preview --stack NAME`", file=sys.stderr)
        return 2
    fabric = _fabric(args)  # --kubeconfig, --apiservers and --render choose the targets the preview runs against
    with _stopped_on_signals():
        text, result = pr_comment(args.fabric.absolute(), args.base, parallel=args.parallel, force=args.force,
                                  on_event=fabric.on_event, policy_packs=fabric.policy_packs, targets=fabric.targets,
                                  lock_timeout=args.lock_timeout)
    if args.output:
        args.output.write_text(text)
    else:
        print(text)
    print(table(result), file=sys.stderr)
    return exit_status(result)
