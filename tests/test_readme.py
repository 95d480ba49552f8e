"""The README as a newcomer with a clone reads it: every link and file it
points to is in the repository, the quick start is two commands, and what it
says about `./dev.sh test` is what dev.sh does."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_link_points_inside_the_repository():
    targets = re.findall(r"\]\(([^)#]+)[^)]*\)", README)
    local = [t for t in targets if not re.match(r"[a-z]+:", t)]
    assert local, "no local links found: the pattern is wrong"
    for target in local:
        path = (REPO / target).resolve()
        assert path.is_relative_to(REPO) and path.exists(), target
    for named in re.findall(r"`(\.\./[^`]+)`", README):
        raise AssertionError(f"{named} is outside the repository: a clone does not have it")


def test_the_quick_start_is_two_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    assert [line.split()[0:2] for line in block.splitlines() if line.strip()] == [
        ["./dev.sh", "start"], ["./dev.sh", "test"]]


def test_what_it_says_about_dev_sh_test_is_what_dev_sh_does():
    dev = (REPO / "dev.sh").read_text(encoding="utf-8")
    (variable,) = set(re.findall(r"\$\{(CLIPDESK_SKIP_\w+)", dev))
    assert f"{variable}=1 ./dev.sh test" in README
    assert 'pytest "$@"' in dev and "./dev.sh test tests/" in README  # its arguments go to pytest


def test_it_says_what_only_the_app_does():
    cli = README.split("## Using the command line", 1)[1].split("\n## ", 1)[0]
    assert "in the app\nonly" in cli or "in the app only" in cli.replace("\n", " ")
    for feature in ("stars", "undo", "trash"):
        assert feature in cli, feature
