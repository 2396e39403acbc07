"""The project's home (`stsrn_lite.home`): where data, caches, runs and results go, installed or not."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stsrn_lite import home as home_module
from stsrn_lite.home import home

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = (
    "stsrn-train",
    "stsrn-evaluate",
    "stsrn-params",
    "stsrn-home",
    "stsrn-download",
    "stsrn-inspect",
    "stsrn-prepare",
    "stsrn-make-synthetic",
)


def _fake_package(folder: Path, project: str | None) -> Path:
    """A folder laid out like a checkout (with ``pyproject.toml`` naming ``project``) or like site-packages."""
    package = folder / "stsrn_lite"
    package.mkdir(parents=True)
    if project is not None:
        (folder / "pyproject.toml").write_text(f'[project]\nname = "{project}"\n')
    return package


def test_home_resolution_order_is_stsrn_home_then_checkout_then_cwd(tmp_path, monkeypatch):
    checkout = tmp_path / "checkout"
    monkeypatch.setattr(home_module, "PACKAGE_DIR", _fake_package(checkout, "stsrn-lite"))
    monkeypatch.chdir(tmp_path)
    chosen = home({"STSRN_HOME": str(tmp_path / "mine")})
    assert (chosen.root, chosen.reason) == ((tmp_path / "mine").resolve(), "STSRN_HOME")
    chosen = home({})
    assert (chosen.root, chosen.reason) == (checkout, "checkout")
    assert chosen.runs == checkout / "runs" and chosen.cache == checkout / "data" / "cache"

    # another project's pyproject.toml above the package (site-packages of a venv in a repo) is not a checkout
    other = tmp_path / "site"
    monkeypatch.setattr(home_module, "PACKAGE_DIR", _fake_package(other, "something-else"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    chosen = home({})
    assert (chosen.root, chosen.reason) == (work.resolve(), "current directory")
    assert home({"STSRN_CACHE": str(tmp_path / "c")}).cache == tmp_path / "c"
    assert home({}).synthetic("smoke") == work.resolve() / "data" / "synthetic"
    assert home({}).synthetic("full") == work.resolve() / "data" / "synthetic-full"


def test_python_m_home_prints_the_folders(tmp_path):
    env = {**os.environ, "STSRN_HOME": str(tmp_path)}
    env.pop("STSRN_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-m", "stsrn_lite.home"], capture_output=True, text=True, env=env, cwd=REPO, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(None, 1) for line in done.stdout.splitlines())
    assert lines["home"] == f"{tmp_path.resolve()}  (STSRN_HOME)"
    assert lines["runs"] == str(tmp_path.resolve() / "runs")
    assert lines["cache"] == str(tmp_path.resolve() / "data" / "cache")


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


SMOKE = textwrap.dedent(
    """
    import json
    import stsrn_lite
    from stsrn_lite.book.experiments import save_results
    from stsrn_lite.book.session import setup
    from stsrn_lite.data.read import read_dataset
    from stsrn_lite.home import home
    from stsrn_lite.preprocess.cache import default_cache_dir, prepare

    session = setup("smoke")
    root = session.root("prid2011")
    cache, built = prepare(read_dataset("prid2011", root), default_cache_dir("prid2011", root), progress=False)
    csv = save_results(session, "install_check", [{"rank1": 1.0}], notebook="test_home")
    print(json.dumps({"package": stsrn_lite.__file__, "home": str(home().root), "reason": home().reason,
                      "root": str(root), "cache": str(cache.path), "csv": str(csv)}))
    """
)


def test_an_installed_copy_writes_under_the_current_directory_not_into_the_package(tmp_path):
    source, target, work = tmp_path / "source", tmp_path / "site", tmp_path / "work"
    work.mkdir()
    # a copy of the checkout's package files, so that the build leaves nothing in the checkout
    shutil.copytree(REPO / "stsrn_lite", source / "stsrn_lite", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
        + ["--target", str(target), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    for script in SCRIPTS:
        assert (target / "bin" / script).is_file(), f"console script {script} missing from {target / 'bin'}"
    before = _listing(target / "stsrn_lite")

    env = {k: v for k, v in os.environ.items() if k not in ("STSRN_HOME", "STSRN_CACHE", "PYTHONPATH")}
    env.update(PYTHONPATH=str(target), PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", SMOKE], capture_output=True, text=True, env=env, cwd=work, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(found["package"]).is_relative_to(target), "the subprocess imported another copy of stsrn_lite"
    assert (found["home"], found["reason"]) == (str(work.resolve()), "current directory")
    for key in ("root", "cache", "csv"):
        assert Path(found[key]).is_relative_to(work.resolve()), (key, found[key])
    assert (work / "data" / "synthetic" / "prid2011").is_dir()
    assert (work / "results" / "smoke" / "install_check.csv").read_text() == "rank1\n1.0\n"
    assert _listing(target / "stsrn_lite") == before, "running the book layer changed the installed package"

    script = subprocess.run(
        [str(target / "bin" / "stsrn-home")], capture_output=True, text=True, env=env, cwd=work, timeout=60
    )
    assert script.returncode == 0, script.stderr
    assert f"{work.resolve()}  (current directory)" in script.stdout


@pytest.mark.parametrize("script", ["download", "inspect_dataset", "prepare", "make_synthetic"])
def test_data_scripts_are_wrappers_of_the_package_commands(script):
    done = subprocess.run(
        [sys.executable, str(REPO / "data_scripts" / f"{script}.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 0 and "usage:" in done.stdout, done.stderr


def test_the_home_command_refuses_arguments_it_does_not_know(capsys):
    from stsrn_lite.home import main

    with pytest.raises(SystemExit) as stopped:
        main(["--bogus"])
    assert stopped.value.code == 2 and "unrecognized arguments: --bogus" in capsys.readouterr().err
