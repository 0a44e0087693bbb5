"""What a preview shows of each change: the engine's step events, as the Automation API hands them over (built from
the engine's JSON the way it builds them), translated once (changes.py) and shown by the CLI and the PR comment."""

from __future__ import annotations

from typing import Any

from pulumi import automation as auto

from clusterfabric.components.model import load_fabric
from clusterfabric.components.model.json_values import SECRET_SIG, SIG_KEY
from clusterfabric.gitops.comment import LIMIT, render
from clusterfabric.runner import cli
from clusterfabric.runner.events import EngineEvents, Event
from clusterfabric.runner.results import FabricResult, StackResult
from clusterfabric.toolchain import PROJECT_DIR

STACK = "urn:pulumi:central::clusterfabric::clusterfabric:index:Cluster$clusterfabric:clusterlink:Cluster"
IMPORT_TYPE = "kubernetes:clusterlink.net/v1alpha1:Import"
IMPORT_URN = f"{STACK}$clusterfabric:clusterlink:Import${IMPORT_TYPE}::central-clusterlink-import-bookinfo-reviews"
REVIEWS = {"apiVersion": "clusterlink.net/v1alpha1", "kind": "Import",
           "metadata": {"name": "reviews", "namespace": "bookinfo"},
           "spec": {"lbScheme": "round-robin", "port": 9080, "targetPort": 34846,
                    "sources": [{"exportName": "reviews", "exportNamespace": "bookinfo", "peer": "east"},
                                {"exportName": "reviews", "exportNamespace": "bookinfo", "peer": "west"}]}}


def secret(value: Any = "[secret]") -> dict[str, Any]:
    """A secret as the engine's events carry it: its mark, the value blinded."""
    return {SIG_KEY: SECRET_SIG, "ciphertext": value}


def step(op: str, urn: str, old: dict | None = None, new: dict | None = None, detailed: dict[str, str] | None = None,
         keys: list[str] | None = None, input_diff: bool = False) -> auto.events.EngineEvent:
    """A ResourcePreEvent as the engine writes it (what the Automation API parses): old state with inputs and
    outputs (the provider's, the inputs and what it added), new state with inputs, the detailed diff."""
    state = lambda inputs, **more: {"type": urn.split("::")[2].split("$")[-1], "urn": urn, "custom": True,  # noqa
                                    "inputs": inputs, **more}
    metadata: dict[str, Any] = {"op": op, "urn": urn, "type": urn.split("::")[2].split("$")[-1], "provider": "p"}
    if old is not None:
        metadata["old"] = state(old, id="bookinfo/reviews", outputs={"__inputs": old, **old})
    if new is not None:
        metadata["new"] = state(new, outputs={})
    if detailed:
        metadata["detailedDiff"] = {p: {"diffKind": kind, "inputDiff": input_diff} for p, kind in detailed.items()}
    if keys:
        metadata["keys"] = keys
    return auto.events.EngineEvent.from_json({"sequence": 1, "timestamp": 0,
                                              "resourcePreEvent": {"metadata": metadata, "planning": True}})


def translated(*events: auto.events.EngineEvent) -> tuple[list[dict[str, Any]], list[str]]:
    """The steps an operation's events leave, and the step messages passed on as progress."""
    emitted: list[str] = []
    engine = EngineEvents(lambda kind, message, **typed: emitted.append(message) if kind == "step" else None)
    for event in events:
        engine.handle(event)
    return engine.steps, emitted


def with_port(port: int) -> dict[str, Any]:
    return {**REVIEWS, "spec": {**REVIEWS["spec"], "port": port}}


PORT_CHANGED = step("update", IMPORT_URN, REVIEWS, with_port(9081), {"spec.port": "update"})


def test_an_update_shows_each_changed_field_from_its_old_to_its_new_value():
    [change], [message] = translated(PORT_CHANGED)
    assert change["fields"] == [{"path": "spec.port", "old": "9080", "new": "9081"}]
    assert message.splitlines() == [f"~ {IMPORT_TYPE} central-clusterlink-import-bookinfo-reviews",
                                    "    spec.port: 9080 -> 9081"]


def test_a_field_in_a_list_or_under_a_dotted_key_is_found_by_its_path():
    new = with_port(9080)
    new["spec"] = {**new["spec"], "sources": [REVIEWS["spec"]["sources"][0], {**REVIEWS["spec"]["sources"][1],
                                                                             "peer": "north"}]}
    new["metadata"] = {**new["metadata"], "labels": {"app.kubernetes.io/name": "reviews"}}
    [change], _ = translated(step("update", IMPORT_URN, REVIEWS, new, {
        "spec.sources[1].peer": "update", 'metadata.labels["app.kubernetes.io/name"]': "add"}))
    assert change["fields"] == [
        {"path": 'metadata.labels["app.kubernetes.io/name"]', "old": "(none)", "new": "reviews"},
        {"path": "spec.sources[1].peer", "old": "west", "new": "north"}]


def test_a_removed_field_is_shown_going_to_none():
    new = {**REVIEWS, "spec": {k: v for k, v in REVIEWS["spec"].items() if k != "lbScheme"}}
    [change], _ = translated(step("update", IMPORT_URN, REVIEWS, new, {"spec.lbScheme": "delete"}))
    assert change["fields"] == [{"path": "spec.lbScheme", "old": "round-robin", "new": "(none)"}]


def test_secret_values_are_masked_wherever_the_path_meets_the_secret():
    urn = f"{STACK}$clusterfabric:clusterlink:Platform$kubernetes:core/v1:Secret::central-clusterlink-platform-cl-peer"
    old = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cl-peer"}, "data": secret("old-key-bytes")}
    new = {**old, "data": secret("new-key-bytes"), "stringData": {"note": secret("plain")}}
    [change], [message] = translated(step("update", urn, old, new, {'data["tls.key"]': "update",
                                                                    "stringData": "add"}))
    assert change["fields"] == [{"path": 'data["tls.key"]', "old": "[secret]", "new": "[secret]"},
                                {"path": "stringData", "old": "(none)", "new": '{"note":"[secret]"}'}]
    assert not any(word in message for word in ("old-key-bytes", "new-key-bytes", "plain"))


def test_a_value_the_preview_does_not_know_yet_is_shown_as_unknown():
    new = {**REVIEWS, "spec": {**REVIEWS["spec"], "targetPort": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}}
    [change], _ = translated(step("update", IMPORT_URN, REVIEWS, new, {"spec.targetPort": "update"}))
    assert change["fields"] == [{"path": "spec.targetPort", "old": "34846", "new": "[unknown]"}]


def test_a_kubernetes_object_created_is_named_by_its_kind_namespace_and_name():
    urn = IMPORT_URN.replace("reviews", "ratings")
    [change], [message] = translated(step("create", urn, new={**REVIEWS, "metadata": {"name": "ratings",
                                                                                       "namespace": "bookinfo"}}))
    assert message == f"+ {IMPORT_TYPE} central-clusterlink-import-bookinfo-ratings: Import bookinfo/ratings"
    assert change["fields"] == []


def test_another_resource_created_is_its_type_and_name_alone():
    urn = f"{STACK}$clusterfabric:clusterlink:Peer::central-clusterlink-peer-west"
    _, [message] = translated(step("create", urn, new={"peer": "west", "certificate": secret()}))
    assert message == "+ clusterfabric:clusterlink:Peer central-clusterlink-peer-west"


def test_a_kubernetes_object_deleted_is_named_as_it_was():
    _, [message] = translated(step("delete", IMPORT_URN, old=REVIEWS))
    assert message == f"- {IMPORT_TYPE} central-clusterlink-import-bookinfo-reviews: Import bookinfo/reviews"


def test_a_replacement_is_one_change_naming_the_field_that_forces_it():
    urn = f"{STACK}$kubernetes:core/v1:Service::west-bookinfo-details"
    old = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "details", "namespace": "bookinfo"},
           "spec": {"clusterIP": "10.0.0.7", "ports": [{"port": 9080}]}}
    new = {**old, "spec": {"clusterIP": "None", "ports": [{"port": 9081}]}}
    diff = {"spec.clusterIP": "update-replace", "spec.ports[0].port": "update"}
    steps, messages = translated(*(step(op, urn, old, new, diff, keys=["spec"])
                                   for op in ("create-replacement", "replace", "delete-replaced")))
    assert [(s["op"], s["replaces"]) for s in steps] == [("replace", ["spec.clusterIP"])]
    assert cli_lines(steps) == [
        "  +- kubernetes:core/v1:Service west-bookinfo-details (replacement forced by spec.clusterIP)",
        "      spec.clusterIP: 10.0.0.7 -> None",
        "      spec.ports[0].port: 9080 -> 9081"]
    assert len(messages) == 1  # shown as progress once


def test_a_long_value_is_cut_in_the_middle_to_sixty_characters():
    old, new = with_port(9080), with_port(9080)
    new["spec"] = {**new["spec"], "lbScheme": "x" * 30 + "-middle-" + "y" * 200 + "-end"}
    _, [message] = translated(step("update", IMPORT_URN, old, new, {"spec.lbScheme": "update"}))
    value = message.splitlines()[1].split(" -> ")[1]
    assert len(value) == 60 and value.startswith("x" * 28 + "...") and value.endswith("y" * 25 + "-end")


def test_an_object_shows_eight_fields_and_counts_the_rest():
    labels = {f"l{i:02}": str(i) for i in range(11)}
    new = {**REVIEWS, "metadata": {**REVIEWS["metadata"], "labels": labels}}
    _, [message] = translated(step("update", IMPORT_URN, REVIEWS, new,
                                   {f"metadata.labels.l{i:02}": "add" for i in range(11)}))
    assert message.splitlines()[1:] == [f"    metadata.labels.l{i:02}: (none) -> {i}" for i in range(8)] + [
        "    ... and 3 more fields"]


def test_without_a_detailed_diff_the_top_level_inputs_that_differ_are_shown():
    [change], _ = translated(step("update", IMPORT_URN, REVIEWS, {**REVIEWS, "kind": "Import2"}))
    assert change["fields"] == [{"path": "kind", "old": "Import", "new": "Import2"}]


def cli_lines(steps: list[dict[str, Any]]) -> list[str]:
    """The lines the CLI's final table prints under a previewed stack's name."""
    result = FabricResult("preview", [StackResult("central", "preview", "succeeded", changes={"update": 1},
                                                  steps=steps)])
    lines = cli.table(result).splitlines()
    return lines[lines.index("central: changes") + 1:]


def test_the_preview_table_lists_each_changed_field_under_its_stack():
    steps, _ = translated(PORT_CHANGED)
    assert cli_lines(steps) == [f"  ~ {IMPORT_TYPE} central-clusterlink-import-bookinfo-reviews",
                                "      spec.port: 9080 -> 9081"]


def test_an_up_table_lists_no_changes():
    steps, _ = translated(PORT_CHANGED)
    result = FabricResult("up", [StackResult("central", "up", "succeeded", changes={"update": 1}, steps=steps)])
    assert "spec.port" not in cli.table(result)


def test_verbose_progress_shows_a_step_with_its_fields_each_line_naming_the_stack(capsys):
    fabric = cli._fabric(cli._parser().parse_args(["preview", "--fabric", str(PROJECT_DIR / "config"), "--verbose"]))
    _, [message] = translated(PORT_CHANGED)
    fabric.on_event(Event("central", "step", message))
    assert capsys.readouterr().err.splitlines() == [
        f"[central] step: ~ {IMPORT_TYPE} central-clusterlink-import-bookinfo-reviews",
        "[central]     spec.port: 9080 -> 9081"]


def comment(steps: list[dict[str, Any]]) -> str:
    result = FabricResult("preview", [StackResult("central", "preview", "succeeded", changes={"update": 1},
                                                  steps=steps)])
    return render(result, load_fabric(PROJECT_DIR / "config"), {"central"}, "main")


def test_the_comment_shows_each_changed_field_old_to_new_in_the_stacks_diff():
    steps, _ = translated(PORT_CHANGED)
    assert (f"```diff\n~ {IMPORT_TYPE} central-clusterlink-import-bookinfo-reviews\n    spec.port: 9080 -> 9081\n```"
            in comment(steps))


def test_a_comment_too_long_with_values_keeps_every_object_and_names_their_fields_instead():
    many = []
    for i in range(150):  # 150 objects of 8 long fields: some 130,000 characters with values
        urn = IMPORT_URN.replace("reviews", f"reviews{i:03}")
        new = {**REVIEWS, "metadata": {**REVIEWS["metadata"], "labels": {f"l{j}": "v" * 60 for j in range(8)}}}
        many += translated(step("update", urn, REVIEWS, new, {f"metadata.labels.l{j}": "add" for j in range(8)}))[0]
    text = comment(many)
    assert len(text) <= LIMIT
    assert "(none) -> " not in text and "The changed values are left out" in text
    assert (f"~ {IMPORT_TYPE} central-clusterlink-import-bookinfo-reviews149 (metadata.labels.l0, metadata.labels.l1"
            in text)
    assert "### Policy results" in text and "reached GitHub's limit" not in text
