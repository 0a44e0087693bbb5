"""A fake `aws` resource provider plugin for the real Pulumi engine: tests only.

There is no AWS account and no pulumi-aws plugin here, and the Lattice stacks are otherwise only evaluated under
mocks. This plugin lets the engine itself run them: it answers the resource provider protocol for the Lattice types
the program declares, and every create, update and delete goes through the stateful Lattice fake
(clusterfabric/offline/lattice_fake.py), which refuses what the Lattice API refuses, with AWS's error names. Its state is
a JSON file named by CLUSTERFABRIC_FAKE_AWS_STATE, shared by every plugin process of a test, so a second stack or
a second `up` sees what the first created.

It must never be installed into the project's PULUMI_HOME or put on PATH: the fabric layer reads a missing AWS
plugin as "plan offline", and this one would pass for real AWS. A test project names its folder in Pulumi.yaml:

    plugins:
      providers:
        - name: aws
          path: <this folder>

The engine sends properties by the provider's (camelCase) names, which are the API's for the Lattice types.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import uuid
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, NoReturn

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2

from clusterfabric.offline.lattice_fake import HANDLERS, LatticeError, LatticeFake
from clusterfabric.offline.mocked import LATTICE_IDS, mocked_resource, whole_numbers
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc
from tests.fake_aws import STATE_VARIABLE

VERSION = "7.51.1"
"""The version pulumi_aws in .venv asks the engine for (its pulumi-plugin.json)."""
DEFAULT_ACCOUNT = "123456789012"
"""The caller's account when the provider names no allowed account (AWS takes it from the credentials)."""

LATTICE = "aws:vpclattice/"
SERVICE, LISTENER = f"{LATTICE}service:Service", f"{LATTICE}listener:Listener"
AUTH_POLICY = f"{LATTICE}authPolicy:AuthPolicy"
ACCESS_LOGS = f"{LATTICE}accessLogSubscription:AccessLogSubscription"
TARGET_ATTACHMENT = f"{LATTICE}targetGroupAttachment:TargetGroupAttachment"
TRAFFIC_SOURCE = "aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment"
AUTONAMED = {f"{LATTICE}serviceNetwork:ServiceNetwork", SERVICE, f"{LATTICE}targetGroup:TargetGroup", LISTENER,
             f"{LATTICE}listenerRule:ListenerRule"}
"""Types whose `name` the provider makes up from the resource's name when the program gives none."""
IN_PLACE = {  # type: the input paths the API changes without replacing the resource (else ForceNew)
    f"{LATTICE}serviceNetwork:ServiceNetwork": ("authType", "tags"),
    SERVICE: ("authType", "tags"),
    f"{LATTICE}targetGroup:TargetGroup": ("config.healthCheck", "tags"),
    LISTENER: ("defaultAction", "tags"),
    f"{LATTICE}listenerRule:ListenerRule": ("action", "match", "priority", "tags"),
    f"{LATTICE}serviceNetworkVpcAssociation:ServiceNetworkVpcAssociation": ("securityGroupIds", "tags"),
    f"{LATTICE}serviceNetworkServiceAssociation:ServiceNetworkServiceAssociation": ("tags",),
    AUTH_POLICY: ("policy",),
    ACCESS_LOGS: ("destinationArn", "tags"),
}
PROVIDER_SCHEMA = {"inputProperties": {"region": {"type": "string"},
                                       "allowedAccountIds": {"type": "array", "items": {"type": "string"}}}}
"""The provider's own arguments the fake reads (Configure): a YAML program's `pulumi:providers:aws` is typed by them."""
HTTP_STATUS = {"ValidationException": 400, "ResourceNotFoundException": 404, "ConflictException": 409,
               "ServiceQuotaExceededException": 402}


def plain(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct as the API would take it: whole numbers as ints, the SDK's bookkeeping keys left out."""
    return {k: whole_numbers(v) for k, v in json_format.MessageToDict(struct).items() if not k.startswith("__")}


def struct(value: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(value, struct_pb2.Struct())


def old_inputs(request: provider_pb2.DiffRequest) -> dict[str, Any]:
    """What a resource was last given (engines before old_inputs existed sent only the old outputs)."""
    return plain(request.old_inputs if request.HasField("old_inputs") else request.olds)


def urn_parts(urn: str) -> tuple[str, str, str]:
    """Stack, type and name of `urn:pulumi:STACK::PROJECT::PARENT$TYPE::NAME`."""
    head, _project, types, name = urn.split("::", 3)
    return head.rsplit(":", 1)[1], types.rsplit("$", 1)[-1], name


def record_id(typ: str, resource_id: str) -> str:
    """The fake's key for a resource: an auth policy's id is its resource's identifier, so it is kept apart."""
    return f"{resource_id}#policy" if typ == AUTH_POLICY else resource_id


def changed_paths(old: Any, new: Any, path: str = "") -> list[str]:
    """The dotted paths where `new` differs from `old`, down to the first value that is not a map."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [p for key in sorted(set(old) | set(new))
                for p in changed_paths(old.get(key), new.get(key), f"{path}.{key}" if path else key)]
    return [] if old == new else [path]


class FakeAws(provider_pb2_grpc.ResourceProviderServicer):
    """The provider protocol over the Lattice fake, for one provider instance (one account and Region)."""

    def __init__(self, state: Path):
        self.state = state
        self.account, self.region = DEFAULT_ACCOUNT, ""

    # --- the plugin and its configuration -----------------------------------------------------------------------

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetSchema(self, request, context):
        return provider_pb2.GetSchemaResponse(schema=json.dumps({"name": "aws", "version": VERSION,
                                                                 "provider": PROVIDER_SCHEMA}))

    def CheckConfig(self, request, context):
        news = plain(request.news)
        failures = [] if news.get("region") else [provider_pb2.CheckFailure(
            property="region", reason="the fake AWS provider needs a region, as AWS does")]
        return provider_pb2.CheckResponse(inputs=request.news, failures=failures)

    def DiffConfig(self, request, context):
        old, new = old_inputs(request), plain(request.news)
        replaces = [k for k in ("region", "allowedAccountIds") if old.get(k) != new.get(k)]
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if replaces else provider_pb2.DiffResponse.DIFF_NONE,
            replaces=replaces, diffs=replaces)

    def Configure(self, request, context):
        args = plain(request.args)
        self.region = (args.get("region") or request.variables.get("aws:region")
                       or request.variables.get("aws:config:region", ""))
        accounts = args.get("allowedAccountIds") or []
        if isinstance(accounts, str):  # some SDKs send a provider's non-string inputs JSON-encoded
            accounts = json.loads(accounts)
        self.account = accounts[0] if accounts else DEFAULT_ACCOUNT
        # Previews are planned here, as AWS's provider plans them: see Create and Update.
        return provider_pb2.ConfigureResponse(acceptSecrets=False, supportsPreview=True, acceptResources=False)

    def Cancel(self, request, context):
        return empty_pb2.Empty()

    # --- resources ----------------------------------------------------------------------------------------------

    def Check(self, request, context):
        _stack, typ, name = urn_parts(request.urn)
        self._known(typ, context)
        news = plain(request.news)
        if typ in AUTONAMED and "name" not in news:
            news["name"] = plain(request.olds).get("name") or f"{name.lower()}-{secrets.token_hex(4)[:7]}"
        return provider_pb2.CheckResponse(inputs=struct(news))

    def Diff(self, request, context):
        _stack, typ, _name = urn_parts(request.urn)
        changed = changed_paths(old_inputs(request), plain(request.news))
        in_place = IN_PLACE.get(typ, ())
        replaces = sorted({p.split(".", 1)[0] for p in changed
                           if not any(p == k or p.startswith(k + ".") for k in in_place)})
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if changed else provider_pb2.DiffResponse.DIFF_NONE,
            replaces=replaces, diffs=sorted({p.split(".", 1)[0] for p in changed}))

    def Create(self, request, context):
        stack, typ, name = urn_parts(request.urn)
        self._known(typ, context)
        inputs = plain(request.properties)
        if request.preview:  # what it will be: its inputs; its id, ARN and the like are known once it exists
            return provider_pb2.CreateResponse(properties=struct(inputs))
        with self._lattice("creating", typ, name, context) as fake:
            resource_id, arn = self._identify(fake, stack, typ, name, inputs)
            fake.create(stack, self.scope, typ, name, record_id(typ, resource_id), arn, inputs)
        return provider_pb2.CreateResponse(id=resource_id, properties=struct(self._outputs(typ, resource_id, arn,
                                                                                           inputs)))

    def Read(self, request, context):
        _stack, typ, _name = urn_parts(request.urn)
        with LatticeFake.stored(self.state) as fake:
            found = fake.record(self.scope, record_id(typ, request.id))
        if found is None:
            return provider_pb2.ReadResponse()  # gone: the engine drops it from the stack
        return provider_pb2.ReadResponse(id=request.id, properties=request.properties, inputs=request.inputs)

    def Update(self, request, context):
        _stack, typ, name = urn_parts(request.urn)
        inputs = plain(request.news)
        if request.preview:  # updated in place, it keeps its id and ARN: they stay known in the plan
            return provider_pb2.UpdateResponse(properties=struct({**plain(request.olds), **inputs}))
        with self._lattice("updating", typ, name, context) as fake:
            record = fake.update(self.scope, typ, record_id(typ, request.id), inputs)
        return provider_pb2.UpdateResponse(properties=struct(self._outputs(typ, request.id, record.arn, inputs)))

    def Delete(self, request, context):
        _stack, typ, name = urn_parts(request.urn)
        with self._lattice("deleting", typ, name, context) as fake:
            if fake.record(self.scope, record_id(typ, request.id)) is not None:  # gone already is deleted, as AWS's
                fake.delete(self.scope, typ, record_id(typ, request.id))       # provider has it
        return empty_pb2.Empty()

    # --- helpers ------------------------------------------------------------------------------------------------

    @property
    def scope(self) -> tuple[str, str]:
        return self.account, self.region

    @staticmethod
    def _known(typ: str, context: grpc.ServicerContext) -> None:
        if typ not in HANDLERS:
            _fail(context, grpc.StatusCode.UNIMPLEMENTED,
                  f"the fake AWS provider (tests/fake_aws) has no resource type {typ}; it fakes only "
                  f"{', '.join(sorted(HANDLERS))}")

    @contextmanager
    def _lattice(self, doing: str, typ: str, name: str, context: grpc.ServicerContext) -> Iterator[LatticeFake]:
        """The fake's state for one change; a refusal becomes the provider error AWS's provider would show."""
        try:
            with LatticeFake.stored(self.state) as fake:
                yield fake
        except LatticeError as err:
            _fail(context, grpc.StatusCode.UNKNOWN,
                  f"{doing} {typ.rsplit(':', 1)[1]} ({name}): operation error VPC Lattice: {err.operation}, "
                  f"https response error StatusCode: {HTTP_STATUS.get(err.code, 400)}, RequestID: {uuid.uuid4()}, "
                  f"{err.code}: {err.message}")

    def _identify(self, fake: LatticeFake, stack: str, typ: str, name: str,
                  inputs: dict[str, Any]) -> tuple[str, str | None]:
        """A new resource's id and ARN, shaped as AWS's (a listener's ARN is under its service's, a rule's under
        its listener's)."""
        account, region = self.scope
        if typ in LATTICE_IDS:
            resource_id, outputs = mocked_resource(typ, f"{name}/{secrets.token_hex(8)}", inputs, stack, region,
                                                   account)
            owner = {LISTENER: ("Service", "serviceIdentifier"),
                     f"{LATTICE}listenerRule:ListenerRule": ("Listener", "listenerIdentifier")}.get(typ)
            parent = fake.region(self.scope).find(owner[0], str(inputs.get(owner[1]))) if owner else None
            if parent is not None and parent.arn:
                return resource_id, f"{parent.arn}/{outputs['arn'].rsplit(':', 1)[1]}"
            return resource_id, outputs["arn"]
        if typ == AUTH_POLICY:
            return inputs.get("resourceIdentifier", ""), None
        if typ == ACCESS_LOGS:
            resource_id = f"als-{secrets.token_hex(9)[:17]}"
            return resource_id, f"arn:aws:vpc-lattice:{region}:{account}:accesslogsubscription/{resource_id}"
        if typ == TARGET_ATTACHMENT:
            target = inputs.get("target") or {}
            return ",".join(str(v) for v in (inputs.get("targetGroupIdentifier"), target.get("id"),
                                             target.get("port", ""))), None
        source = inputs.get("trafficSource") or {}  # TRAFFIC_SOURCE
        return ",".join(str(v) for v in (inputs.get("autoscalingGroupName"), source.get("type"),
                                         source.get("identifier"))), None

    def _outputs(self, typ: str, resource_id: str, arn: str | None, inputs: dict[str, Any]) -> dict[str, Any]:
        """What AWS's provider reads back: the inputs, the ARN and the computed attributes the program may use."""
        outputs = {**inputs, "id": resource_id, "tagsAll": inputs.get("tags") or {}}
        if arn:
            outputs["arn"] = arn
        if typ in LATTICE_IDS:
            outputs.setdefault("status", "ACTIVE")
        if typ == LISTENER:
            outputs.update(listenerId=resource_id, serviceArn=arn.rsplit("/listener/", 1)[0] if arn else "")
        if typ == f"{LATTICE}listenerRule:ListenerRule":
            outputs["ruleId"] = resource_id
        if typ == SERVICE:
            outputs["dnsEntries"] = [{"domainName": f"{inputs.get('name')}-{resource_id[4:11]}.{resource_id[4:]}."
                                                    f"vpc-lattice-svcs.{self.region}.on.aws",
                                      "hostedZoneId": "Z" + resource_id[4:17].upper()}]
        if typ == AUTH_POLICY:
            outputs["state"] = "Active"
        return outputs


def _fail(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise AssertionError("unreachable: abort raises")


def main() -> None:
    state = os.environ.get(STATE_VARIABLE)
    if not state:
        sys.exit(f"pulumi-resource-aws (fake, tests only): set {STATE_VARIABLE} to the JSON file that holds the "
                 "fake AWS account's state; refusing to start without it")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(FakeAws(Path(state)), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)  # the engine reads the port from the first line
    server.wait_for_termination()


if __name__ == "__main__":
    main()
