"""The component package's SDKs as `pulumi package add` generates them, for the tests that read or build them.

`pulumi package add <checkout>/components/plugin` reads the package's schema from its plugin and has the language's
host generate the SDK with pulumi/pkg's code generators, as a package "support pack" (`pkg.SupportPack = true`: the
Go SDK gets its own go.mod, module example.com/pulumi-clusterfabric/sdk/go). The hosts of Node.js and Go are not served
by the module proxy reachable here, so sdkgen (toolchain/sdkgen, built by scripts/setup) runs those same generators on
the schema the plugin serves (`pulumi package get-schema`), marked a support pack as `package add` marks it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from clusterfabric.toolchain import PROJECT_DIR, TOOLS, pulumi_command, pulumi_env
from tests.component_package import package_copy

LANGUAGES = ("nodejs", "go", "python")


def served_schema(folder: Path) -> dict:
    """The schema the package's plugin serves, its plugin copied into `folder`."""
    env = pulumi_env(PROJECT_DIR)
    text = subprocess.run([pulumi_command(env), "package", "get-schema", str(package_copy(folder / "package"))],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=True).stdout
    return json.loads(text)


def generate_sdks(folder: Path, languages=LANGUAGES) -> Path:
    """The SDK of each language in `<folder>/<language>`, from the schema the plugin serves (`<folder>/schema.json`)."""
    folder.mkdir(parents=True, exist_ok=True)
    schema = served_schema(folder)
    schema.setdefault("meta", {})["supportPack"] = True  # what `pulumi package add` sets before generating
    (folder / "schema.json").write_text(json.dumps(schema, indent=2))
    for language in languages:
        subprocess.run([str(TOOLS / "bin" / "sdkgen"), str(folder / "schema.json"), language, str(folder / language)],
                       capture_output=True, text=True, timeout=120, check=True)
    return folder
