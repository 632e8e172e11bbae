"""The Dockerfile of a runtime's toolchain image, rendered from the one template every language shares
(``devstack/runtime.Dockerfile``) and the ``[image]`` table of its ``runtime.toml``.

A language's steps are its ``extends`` runtime's steps (word for word, so Docker's build cache stores
those layers once for both), then one ``ADD`` per host artifact it places, then one ``RUN`` that installs
its Debian packages and runs its own commands. The rendered text is part of the image's inputs
(devstack/images.py), so editing the template or a recipe rebuilds exactly the images it changes.
"""

import sys
from collections.abc import Mapping
from pathlib import Path

from common.runtimes import HostArtifacts, Runtime, load_runtimes
from devstack.console import DevstackError
from devstack.profile import repo_root

TEMPLATE = Path(__file__).with_name("runtime.Dockerfile")
_APT_INSTALL = "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends"


def render_dockerfile(runtimes: Mapping[str, Runtime], language: str) -> str:
    """The Dockerfile of ``language``'s toolchain image."""
    steps = "\n\n".join(_steps(runtimes, language)) or "# Nothing to install: the base image has it."
    return TEMPLATE.read_text().replace("@LANGUAGE@", language).replace("@STEPS@", steps)


def build_artifacts(runtimes: Mapping[str, Runtime], language: str) -> HostArtifacts:
    """The host artifacts the image of ``language`` needs: its own and those of the runtimes it extends."""
    wanted = HostArtifacts()
    for runtime in _chain(runtimes, language):
        own = runtime.host_artifacts
        wanted = HostArtifacts(
            go_toolchain=own.go_toolchain or wanted.go_toolchain,
            npm_packages=list(dict.fromkeys([*wanted.npm_packages, *own.npm_packages])),
            maven_artifacts=list(dict.fromkeys([*wanted.maven_artifacts, *own.maven_artifacts])),
        )
    return wanted


def _chain(runtimes: Mapping[str, Runtime], language: str) -> list[Runtime]:
    """``language``'s runtime after every runtime it extends, the farthest first."""
    chain: list[Runtime] = []
    name: str | None = language
    while name is not None:
        if name not in runtimes:
            raise DevstackError(f"runtimes/{chain[-1].id if chain else language}: extends unknown {name!r}")
        if any(runtime.id == name for runtime in chain):
            raise DevstackError(f"runtimes/{language}: its image extends itself (through {name!r})")
        chain.append(runtimes[name])
        name = runtimes[name].image.extends
    return chain[::-1]


def _steps(runtimes: Mapping[str, Runtime], language: str) -> list[str]:
    """The Dockerfile instructions of ``language``'s toolchain, in build order."""
    steps: list[str] = []
    for runtime in _chain(runtimes, language):
        recipe = runtime.image
        steps += [f"ADD {source} {target}" for source, target in recipe.add.items()]
        commands = list(recipe.run)
        if recipe.packages:
            # Slim images leave out the man directories some packages' alternatives point into.
            install = f"{_APT_INSTALL} {' '.join(recipe.packages)}"
            commands = [
                "mkdir -p /usr/share/man/man1",
                "apt-get update",
                install,
                "rm -rf /var/lib/apt/lists/*",
                *commands,
            ]
        if commands:
            steps.append("RUN " + " \\\n && ".join(commands))
    return steps


def main() -> None:
    """``python -m devstack.runtime_dockerfile <id>``: print the Dockerfile of a language's toolchain."""
    runtimes = load_runtimes(repo_root() / "runtimes")
    for language in sys.argv[1:] or sorted(runtimes):
        print(render_dockerfile(runtimes, language))


if __name__ == "__main__":
    main()
