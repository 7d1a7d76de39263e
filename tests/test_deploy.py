"""The deployment files agree with each other and with the code they run.

Nothing here needs a container runtime or a cluster: the files are parsed and compared,
so a renamed probe path, port name or CLI subcommand breaks this test, not a rollout.
"""

from __future__ import annotations

import argparse
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
YAML_FILES = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])

Manifest = dict[str, Any]


def _documents(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


def _manifest(name: str, kind: str) -> Manifest:
    """The single document of ``kind`` in ``deploy/kubernetes/<name>``."""
    docs = [doc for doc in _documents(KUBERNETES / name) if doc.get("kind") == kind]
    assert len(docs) == 1, f"{name}: expected one {kind}, found {len(docs)}"
    result: Manifest = docs[0]
    return result


def _compose() -> Manifest:
    [compose] = _documents(DEPLOY / "compose.yaml")
    result: Manifest = compose
    return result


def _pod_spec(manifest: Manifest) -> Manifest:
    spec: Manifest = manifest["spec"]["template"]["spec"]
    return spec


def _container(manifest: Manifest) -> Manifest:
    [container] = _pod_spec(manifest)["containers"]
    result: Manifest = container
    return result


def _dockerfile_final_stage() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile's last stage, continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    logical = re.sub(r"\\\n", " ", text)
    instructions: list[tuple[str, str]] = []
    for line in logical.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, arguments = stripped.partition(" ")
        if keyword.upper() == "FROM":
            instructions = []  # a new stage starts; only the last one is the image
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _deploy_commands() -> Iterator[tuple[str, list[str]]]:
    """Every command the deployment files run in the image, with where it comes from."""
    for keyword, arguments in _dockerfile_final_stage():
        if keyword == "CMD":
            yield "Dockerfile CMD", json.loads(arguments)
    for name, service in _compose()["services"].items():
        if "command" in service:
            yield f"compose service {name}", service["command"]
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for doc in _documents(path):
            template = doc.get("spec", {}).get("template", {})
            for container in template.get("spec", {}).get("containers", []):
                if "command" in container:
                    command = [*container["command"], *container.get("args", [])]
                    yield f"{path.name} container {container['name']}", command


def _cli_subcommands() -> set[str]:
    """The subcommands of the `loyalty` CLI, read from its argparse parser factory."""
    from loyalty_gateway.cli import build_parser

    parser = build_parser()
    return {
        name
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    }


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda path: str(path.relative_to(DEPLOY)))
def test_every_deploy_yaml_file_parses_into_mappings(path: Path) -> None:
    docs = _documents(path)
    assert docs
    assert all(isinstance(doc, dict) for doc in docs)


def test_kustomization_lists_every_manifest_except_the_secret_example() -> None:
    [kustomization] = _documents(KUBERNETES / "kustomization.yaml")
    manifests = {
        path.name
        for path in KUBERNETES.glob("*.yaml")
        if path.name not in {"kustomization.yaml", "secret.example.yaml"}
    }
    assert set(kustomization["resources"]) == manifests
    assert "secret.example.yaml" not in kustomization["resources"]


def test_dockerfile_final_stage_runs_as_a_non_root_user() -> None:
    users = [args for keyword, args in _dockerfile_final_stage() if keyword == "USER"]
    assert users, "the final stage sets no USER, so the image runs as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_dockerfile_default_command_is_loyalty_serve() -> None:
    commands = [args for keyword, args in _dockerfile_final_stage() if keyword == "CMD"]
    assert commands, "the final stage has no CMD"
    assert json.loads(commands[-1]) == ["loyalty", "serve"]


def test_loyalty_is_the_gateways_console_script() -> None:
    with (ROOT / "gateway" / "pyproject.toml").open("rb") as stream:
        scripts = tomllib.load(stream)["project"]["scripts"]
    assert scripts["loyalty"] == "loyalty_gateway.cli:main"


def test_deploy_files_run_only_serve_and_migrate_of_the_loyalty_cli() -> None:
    commands = dict(_deploy_commands())
    assert commands, "no command found in the deployment files"
    for origin, command in commands.items():
        assert command[0] == "loyalty", origin
    assert {tuple(command) for command in commands.values()} == {
        ("loyalty", "serve"),
        ("loyalty", "migrate"),
    }


def test_serve_and_migrate_are_subcommands_of_the_cli() -> None:
    # The subcommands every deployment file relies on (see the test above).
    assert {"serve", "migrate"} <= _cli_subcommands()


def test_deployment_probes_use_healthz_for_liveness_and_readyz_for_readiness() -> None:
    container = _container(_manifest("deployment.yaml", "Deployment"))
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] in {"/healthz", "/readyz"}


def test_service_targets_the_deployments_named_container_port() -> None:
    container = _container(_manifest("deployment.yaml", "Deployment"))
    port_names = {port["name"] for port in container["ports"]}
    service = _manifest("service.yaml", "Service")
    [port] = service["spec"]["ports"]
    assert port["targetPort"] in port_names
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in port_names


def test_service_selects_the_deployments_pods() -> None:
    deployment = _manifest("deployment.yaml", "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = _manifest("service.yaml", "Service")["spec"]["selector"]
    assert selector.items() <= pod_labels.items()


@pytest.mark.parametrize(
    ("name", "kind"), [("deployment.yaml", "Deployment"), ("migration-job.yaml", "Job")]
)
def test_pods_run_as_non_root_without_privilege_escalation(name: str, kind: str) -> None:
    manifest = _manifest(name, kind)
    container = _container(manifest)
    # A container's securityContext overrides its pod's, field by field.
    effective = {**_pod_spec(manifest).get("securityContext", {}), **container["securityContext"]}
    assert effective["runAsNonRoot"] is True
    assert effective["runAsUser"] != 0
    assert effective["allowPrivilegeEscalation"] is False
    assert effective["readOnlyRootFilesystem"] is True


def test_compose_gateway_starts_only_after_migrate_completed_successfully() -> None:
    services = _compose()["services"]
    depends_on = services["gateway"]["depends_on"]
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_kubernetes_pods_take_settings_from_the_configmap_and_the_secret() -> None:
    configmap = _manifest("configmap.yaml", "ConfigMap")["metadata"]["name"]
    [secret] = _documents(KUBERNETES / "secret.example.yaml")
    for name, kind in (("deployment.yaml", "Deployment"), ("migration-job.yaml", "Job")):
        sources = _container(_manifest(name, kind))["envFrom"]
        assert {"configMapRef": {"name": configmap}} in sources, name
        assert {"secretRef": {"name": secret["metadata"]["name"]}} in sources, name
