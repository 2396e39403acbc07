"""`stsrn_lite.atomic.write_atomic`: all-or-nothing file writes."""

import os

import pytest

from stsrn_lite import atomic
from stsrn_lite.atomic import open_atomic, write_atomic


def test_write_atomic_writes_text_and_bytes_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "table.csv"
    write_atomic(path, "a,b\n1,é\n")
    assert path.read_bytes() == "a,b\n1,é\n".encode()
    write_atomic(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in path.parent.iterdir()) == ["table.csv"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    path = tmp_path / "records.csv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError, match="disk full"), open_atomic(path, "w") as handle:
        handle.write("half of the new")
        raise RuntimeError("disk full")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["records.csv"]


def test_a_failed_rename_keeps_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch):
    path = tmp_path / "run.json"
    path.write_text("{}")

    def refuse(src, dst):
        raise OSError("read-only")

    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(OSError, match="read-only"):
        write_atomic(path, "{'new': 1}")
    assert path.read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_write_atomic_fsyncs_the_file_and_the_folder(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    write_atomic(tmp_path / "x.txt", "x")
    assert len(synced) == 2  # the temporary, then the folder


def test_write_atomic_refuses_other_types(tmp_path):
    with pytest.raises(TypeError, match="bytes or str"):
        write_atomic(tmp_path / "x", 3)
    assert not list(tmp_path.iterdir())


@pytest.fixture
def umask_022():
    """Run the test under the common umask 0o022, whatever the caller's."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _modes(root):
    """{relative path: permission bits} of ``root`` and everything below it."""
    paths = [root, *root.rglob("*")]
    return {str(p.relative_to(root)): p.stat().st_mode & 0o777 for p in paths}


def test_atomic_files_and_folders_follow_the_umask(tmp_path, umask_022):
    write_atomic(tmp_path / "table.csv", "a\n")
    with open_atomic(tmp_path / "model.pt") as handle:
        handle.write(b"x")
    assert (tmp_path / "table.csv").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "model.pt").stat().st_mode & 0o777 == 0o644
    with atomic.locked(tmp_path / "built"), atomic.building_dir(tmp_path / "built") as partial:
        (partial / "a.txt").write_text("a")
    assert _modes(tmp_path / "built") == {".": 0o755, "a.txt": 0o644}


def test_a_cache_and_a_synthetic_dataset_follow_the_umask(tmp_path, umask_022):
    from stsrn_lite.data.ilidsvid import read_ilidsvid
    from stsrn_lite.preprocess.cache import prepare
    from stsrn_lite.synthetic.generator import SyntheticConfig, generate

    root = generate(SyntheticConfig(layout="ilids-vid", identities=2, seed=0, max_length=4), tmp_path / "synthetic")
    modes = _modes(root)
    assert {mode for name, mode in modes.items() if (root / name).is_dir()} == {0o755}
    assert {mode for name, mode in modes.items() if (root / name).is_file()} == {0o644}
    cache, _ = prepare(read_ilidsvid(root), tmp_path / "cache", progress=False)
    modes = _modes(cache.path)
    assert modes["."] == 0o755 and set(modes.values()) == {0o755, 0o644}


def test_busy_tells_a_lock_held_elsewhere_without_taking_or_making_one(tmp_path):
    run = tmp_path / "runs" / "a-run"
    assert not atomic.busy(run) and not (tmp_path / "runs").exists()  # no lock file: free, and none made
    with atomic.locked(run):  # another holder (flock: another open file, even in this process)
        assert atomic.busy(run) and atomic.busy(run)
    assert not atomic.busy(run)
    with atomic.locked(run):  # the glance let go of it: the lock can be taken again
        pass
