"""Tests for `stsrn_lite.data.download`, `stsrn_lite.data.archive` and `data_scripts/download.py`.

Every download goes to a local HTTP server on 127.0.0.1 (a thread, shut down after each test);
no other address is contacted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import threading
import time
import types
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import MARS_INFO

from stsrn_lite.data import download as dl
from stsrn_lite.data.archive import ArchiveError, safe_extract
from stsrn_lite.data.layout import DatasetError

REPO = Path(__file__).resolve().parents[1]
PAYLOAD = bytes(range(256)) * 4000  # 1,024,000 bytes, not a multiple of the 1 MiB chunk


# ---------------------------------------------------------------- local server


class Server:
    """Serves ``files`` (path -> bytes). mode: "range" (206 on Range), "norange" (always
    200), "drop" (like "range", but the first GET sends half the body and hangs up)."""

    def __init__(self, files: dict[str, bytes], mode: str = "range"):
        self.files, self.mode = files, mode
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.sent = 0  # body bytes written
        self.dropped = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5

            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Range")))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start, rng = 0, self.headers.get("Range")
                if rng and server.mode != "norange":
                    start = int(re.fullmatch(r"bytes=(\d+)-", rng).group(1))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                chunk = body[start:]
                if server.mode == "drop" and not server.dropped:
                    server.dropped = True
                    chunk = chunk[: len(chunk) // 2]
                    self.close_connection = True
                server.sent += len(chunk)  # before writing: the client may check at once
                self.wfile.write(chunk)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def serve():
    servers: list[Server] = []

    def start(files: dict[str, bytes], mode: str = "range") -> Server:
        servers.append(Server(files, mode))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def closed_url() -> str:
    """An address on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/x"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def make_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def tar_info(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    return info


def make_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` -> its bytes (None for a folder), hidden ones included."""
    return {str(p.relative_to(root)): None if p.is_dir() else p.read_bytes() for p in sorted(root.rglob("*"))}


def break_replace(monkeypatch, fails) -> list[tuple[str, str]]:
    """Make ``os.replace`` raise where ``fails(n, src, dst)`` (n counts calls from 1); returns
    the calls made."""
    real, calls = os.replace, []

    def replace(src, dst):
        calls.append((str(src), str(dst)))
        if fails(len(calls), Path(src), Path(dst)):
            raise OSError(28, "No space left on device (simulated)")
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return calls


# ---------------------------------------------------------------- download_file


def test_download_verifies_md5(serve, tmp_path):
    server = serve({"/f.bin": PAYLOAD})
    dest = dl.download_file(f"{server.url}/f.bin", tmp_path / "f.bin", md5=md5(PAYLOAD), expected_size=len(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_wrong_md5_keeps_bad_file(serve, tmp_path):
    server = serve({"/f.bin": PAYLOAD})
    with pytest.raises(dl.ChecksumError, match=r"f\.bin: md5 .* does not match the expected 0+"):
        dl.download_file(f"{server.url}/f.bin", tmp_path / "f.bin", md5="0" * 32)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin.bad"]
    assert (tmp_path / "f.bin.bad").read_bytes() == PAYLOAD


def test_resume_requests_only_the_rest(serve, tmp_path):
    server = serve({"/f.bin": PAYLOAD})
    n = 300_001
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD[:n])
    dest = dl.download_file(f"{server.url}/f.bin", tmp_path / "f.bin", md5=md5(PAYLOAD))
    assert server.requests == [("/f.bin", f"bytes={n}-")]
    assert server.sent == len(PAYLOAD) - n
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "f.bin.part").exists()


def test_server_without_range_restarts(serve, tmp_path):
    server = serve({"/f.bin": PAYLOAD}, mode="norange")
    (tmp_path / "f.bin.part").write_bytes(b"x" * 1000)  # wrong bytes: a resume would keep them
    dest = dl.download_file(f"{server.url}/f.bin", tmp_path / "f.bin", md5=md5(PAYLOAD))
    assert server.requests == [("/f.bin", "bytes=1000-")]
    assert dest.read_bytes() == PAYLOAD


def test_complete_part_is_not_downloaded_again(serve, tmp_path):
    server = serve({"/f.bin": PAYLOAD})
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD)  # the server answers 416
    dest = dl.download_file(f"{server.url}/f.bin", tmp_path / "f.bin", md5=md5(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD and server.sent == 0


def test_interrupted_transfer_resumes(serve, tmp_path):
    server = serve({"/f.bin": PAYLOAD}, mode="drop")
    url, dest = f"{server.url}/f.bin", tmp_path / "f.bin"
    with pytest.raises(dl.DownloadError, match="broke off.*run the same command again"):
        dl.download_file(url, dest, md5=md5(PAYLOAD))
    part = tmp_path / "f.bin.part"
    assert not dest.exists() and 0 < part.stat().st_size < len(PAYLOAD)
    kept = part.stat().st_size
    dl.download_file(url, dest, md5=md5(PAYLOAD))
    assert server.requests[-1] == ("/f.bin", f"bytes={kept}-")
    assert dest.read_bytes() == PAYLOAD and not part.exists()


def test_http_error_names_the_url(serve, tmp_path):
    server = serve({})
    with pytest.raises(dl.SourceUnavailable, match=r"/missing\.bin: the server answered HTTP 404"):
        dl.download_file(f"{server.url}/missing.bin", tmp_path / "m.bin")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- safe_extract

EVIL = {
    "dotdot": ([(tar_info("../evil"), b"x")], "'..' leaves the destination"),
    "absolute": (None, "absolute path"),  # built in the test: the name depends on tmp_path
    "symlink": ([(tar_info("etc", tarfile.SYMTYPE, "/etc"), None)], "symlink 'etc' -> '/etc'"),
    "symlink_up": ([(tar_info("a/up", tarfile.SYMTYPE, "../../.."), None)], "points outside"),
    "hardlink": ([(tar_info("h", tarfile.LNKTYPE, "../evil"), None)], "hard link"),
    "device": ([(tar_info("null", tarfile.CHRTYPE), None)], "device or special file"),
}


@pytest.mark.parametrize("case", list(EVIL))
def test_unsafe_tar_is_refused(tmp_path, case):
    members, message = EVIL[case]
    if members is None:
        members = [(tar_info(str(tmp_path / "abs_evil")), b"x")]
    archive = make_tar(tmp_path / "evil.tar", [(tar_info("ok.txt"), b"fine")] + members)
    dest = tmp_path / "dest"
    with pytest.raises(ArchiveError, match=re.escape(message)):
        safe_extract(archive, dest)
    assert list(dest.iterdir()) == []  # not even ok.txt or a temporary folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "evil.tar"]


def test_unsafe_zip_is_refused(tmp_path):
    archive = make_zip(tmp_path / "evil.zip", {"ok.txt": b"fine", "../evil": b"x"})
    with pytest.raises(ArchiveError, match="'..' leaves the destination"):
        safe_extract(archive, tmp_path / "dest")
    assert list((tmp_path / "dest").iterdir()) == [] and not (tmp_path / "evil").exists()


def test_zip_symlink_is_refused(tmp_path):
    link = zipfile.ZipInfo("etc")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as zf:
        zf.writestr(link, "/etc")
    with pytest.raises(ArchiveError, match="'etc': links in zip archives are not extracted"):
        safe_extract(tmp_path / "link.zip", tmp_path / "dest")
    assert list((tmp_path / "dest").iterdir()) == []


def test_damaged_zip_leaves_no_partial_folder(tmp_path):
    first, second = b"A" * 5000, b"B" * 5000
    raw = make_zip(tmp_path / "d.zip", {"data/a.bin": first, "data/b.bin": second}).read_bytes()
    i = raw.index(second)  # stored uncompressed: flip a byte of the second member's data
    (tmp_path / "d.zip").write_bytes(raw[:i] + b"C" + raw[i + 1 :])
    with pytest.raises(ArchiveError, match="extraction failed.*nothing was placed"):
        safe_extract(tmp_path / "d.zip", tmp_path / "dest")
    assert list((tmp_path / "dest").iterdir()) == []  # a.bin was written, then cleaned up


def test_normal_tar_and_zip_extract(tmp_path):
    tar = make_tar(
        tmp_path / "ok.tar",
        [
            (tar_info("top", tarfile.DIRTYPE), None),
            (tar_info("top/sub/a.txt"), b"alpha"),
            (tar_info("top/link", tarfile.SYMTYPE, "sub/a.txt"), None),
            (tar_info("top/hard", tarfile.LNKTYPE, "top/sub/a.txt"), None),
        ],
    )
    created = safe_extract(tar, tmp_path / "t")
    assert created == [tmp_path / "t" / "top"]
    assert (tmp_path / "t/top/link").read_bytes() == b"alpha"
    assert (tmp_path / "t/top/hard").read_bytes() == b"alpha"
    zipped = make_zip(tmp_path / "ok.zip", {"z/b.txt": b"beta", "c.txt": b"gamma"})
    created = safe_extract(zipped, tmp_path / "z", prefix="inner")
    assert created == [tmp_path / "z" / "inner"]
    assert (tmp_path / "z/inner/z/b.txt").read_bytes() == b"beta"
    with pytest.raises(ArchiveError, match="already exist.*--force"):
        safe_extract(zipped, tmp_path / "z", prefix="inner")
    safe_extract(make_zip(tmp_path / "new.zip", {"n.txt": b"new"}), tmp_path / "z", prefix="inner", replace=True)
    assert sorted(p.name for p in (tmp_path / "z/inner").iterdir()) == ["n.txt"]


OLD = {"a/x.bin": PAYLOAD[:1000], "a/sub/y.txt": b"old y", "b/z.txt": b"old z", "keep.txt": b"not in the archive"}
NEW = {"a/x.bin": b"new x", "b/w.txt": b"new w", "c.txt": b"new c"}


def old_dest(dest: Path) -> Path:
    for rel, data in OLD.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(data)
    return dest


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4, 5])
def test_failed_replace_restores_previous_entries(tmp_path, monkeypatch, fail_at):
    # five moves: old a/ and b/ into the trash, then the new a/, b/ and c.txt into place
    dest = old_dest(tmp_path / "dest")
    before = snapshot(dest)
    new = make_zip(tmp_path / "new.zip", NEW)
    calls = break_replace(monkeypatch, lambda n, src, dst: n == fail_at)
    with pytest.raises(ArchiveError, match="previous entries were restored"):
        safe_extract(new, dest, replace=True)
    assert len(calls) >= fail_at  # the simulated failure did happen
    assert snapshot(dest) == before  # byte for byte, and no .extract-/.replaced- folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "new.zip"]
    monkeypatch.undo()
    safe_extract(new, dest, replace=True)  # the same call goes through afterwards
    assert snapshot(dest) == {
        "a": None,
        "a/x.bin": b"new x",
        "b": None,
        "b/w.txt": b"new w",
        "c.txt": b"new c",
        "keep.txt": OLD["keep.txt"],
    }


def test_failed_restore_keeps_the_previous_entries(tmp_path, monkeypatch):
    dest = old_dest(tmp_path / "dest")
    new = make_zip(tmp_path / "new.zip", NEW)
    break_replace(monkeypatch, lambda n, src, dst: n >= 4)  # new b/ fails, and so does the undo
    with pytest.raises(ArchiveError, match="nor restore.*they are kept in") as err:
        safe_extract(new, dest, replace=True)
    (trash,) = [p for p in dest.iterdir() if p.name.startswith(".")]
    assert trash.name.startswith(".replaced-") and str(trash) in str(err.value)
    assert snapshot(trash) == {
        k: v for k, v in snapshot(old_dest(tmp_path / "ref")).items() if k != "keep.txt"
    }  # old a/ and b/, byte for byte


# ---------------------------------------------------------------- fetch_dataset

PRID_FILES = {
    "multi_shot/cam_a/person_0001/0001.png": b"a1",
    "multi_shot/cam_b/person_0001/0001.png": b"b1",
    "readme.txt": b"PRID",
}


@pytest.mark.parametrize("top", ["", "prid_2011/"])
def test_prid_zip_lands_in_prid_2011(serve, tmp_path, top):
    archive = make_zip(tmp_path / "src.zip", {top + k: v for k, v in PRID_FILES.items()})
    server = serve({"/prid.zip": archive.read_bytes()})
    root = tmp_path / "root"
    messages = dl.fetch_dataset("prid2011", root, urls=[f"{server.url}/prid.zip"], progress=False)
    assert (root / "prid_2011/multi_shot/cam_a/person_0001/0001.png").read_bytes() == b"a1"
    assert sorted(p.name for p in root.iterdir()) == ["prid_2011", "prid_2011.zip"]
    text = "\n".join(messages)
    assert "layout under" in text and "third party reported 1,064,626,547" in text
    assert f"put it at {root / 'splits_prid2011.json'}" in text
    again = dl.fetch_dataset("prid2011", root, urls=[f"{server.url}/prid.zip"], progress=False)
    assert "already present" in again[0] and len(server.requests) == 1


def test_second_address_is_tried(serve, tmp_path, closed_url):
    archive = make_zip(tmp_path / "src.zip", PRID_FILES)
    server = serve({"/prid.zip": archive.read_bytes()})
    dl.fetch_dataset("prid2011", tmp_path / "root", urls=[closed_url, f"{server.url}/prid.zip"], progress=False)
    assert (tmp_path / "root/prid_2011/multi_shot/cam_b/person_0001/0001.png").is_file()


def ilids_tar(path: Path) -> Path:
    return make_tar(
        path,
        [
            (tar_info("i-LIDS-VID/sequences/cam1/person001/cam1_person001_00317.png"), b"1"),
            (tar_info("i-LIDS-VID/sequences/cam2/person001/cam2_person001_00101.png"), b"2"),
            (tar_info("train-test people splits/readme.txt"), b"splits"),
        ],
    )


def test_ilids_download_extract_and_force(serve, tmp_path, monkeypatch):
    data = ilids_tar(tmp_path / "src.tar").read_bytes()
    monkeypatch.setitem(dl.SOURCES, "ilids-vid", dataclasses.replace(dl.ILIDS_VID, md5=md5(data)))
    server = serve({"/i.tar": data})
    root, urls = tmp_path / "root", [f"{server.url}/i.tar"]
    messages = dl.fetch_dataset("ilids-vid", root, urls=urls, progress=False)
    assert "md5 verified" in messages[0]
    assert (root / "i-LIDS-VID/sequences/cam1/person001/cam1_person001_00317.png").is_file()
    (root / "i-LIDS-VID/stale.txt").write_text("old")
    before = snapshot(root)
    with monkeypatch.context() as m:  # the last move fails after the new i-LIDS-VID/ is placed
        break_replace(m, lambda n, src, dst: ".extract-" in str(src) and dst.name == "train-test people splits")
        with pytest.raises(dl.DownloadError, match="previous entries were restored"):
            dl.fetch_dataset("ilids-vid", root, urls=urls, progress=False, force=True)
    assert snapshot(root) == before  # stale.txt included: the old folders are back
    dl.fetch_dataset("ilids-vid", root, urls=urls, progress=False, force=True)
    assert not (root / "i-LIDS-VID/stale.txt").exists() and len(server.requests) == 3
    assert not [p for p in root.iterdir() if p.name.startswith(".")]


def test_ilids_third_party_md5_mismatch(serve, tmp_path):
    server = serve({"/i.tar": ilids_tar(tmp_path / "src.tar").read_bytes()})
    root = tmp_path / "root"
    with pytest.raises(dl.DownloadError, match="comes from a third party") as err:
        dl.fetch_dataset("ilids-vid", root, urls=[f"{server.url}/i.tar"], progress=False)
    assert str(root / "iLIDS-VID.tar.bad") in str(err.value)
    assert sorted(p.name for p in root.iterdir()) == ["iLIDS-VID.tar.bad"]


def test_unreachable_host_fails_fast(tmp_path, closed_url):
    start = time.monotonic()
    with pytest.raises(dl.DownloadError) as err:
        dl.fetch_dataset("ilids-vid", tmp_path, urls=[closed_url], progress=False)
    assert time.monotonic() - start < 5
    text = str(err.value)
    assert "could not be reached" in text and "without internet" in text
    assert f"put it at {tmp_path / 'iLIDS-VID.tar'}" in text
    assert f"{tmp_path / 'i-LIDS-VID/sequences/cam1/person001'}" in text
    assert list(tmp_path.iterdir()) == []


def test_unknown_name_lists_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="ilids-vid, prid2011, mars"):
        dl.fetch_dataset("nosuch", tmp_path)


# ---------------------------------------------------------------- MARS


def mars_layout(root: Path, mats: Path | None = None) -> Path:
    for folder in ("bbox_train/0001", "bbox_test/0002", "info"):
        (root / folder).mkdir(parents=True)
    for name in ("train_name.txt", "test_name.txt"):
        (root / "info" / name).write_text("")
    for name in ("tracks_train_info.mat", "tracks_test_info.mat", "query_IDX.mat"):
        if mats is None:
            (root / "info" / name).write_bytes(b"MATLAB")
        else:
            shutil.copy(mats / name, root / "info" / name)
    return root


def test_mars_checker_with_the_real_info_files(tmp_path):
    if not MARS_INFO.is_dir():
        pytest.skip(f"{MARS_INFO} is absent (the real MARS info/*.mat files)")
    root = mars_layout(tmp_path, MARS_INFO)
    assert dl.check_layout(dl.MARS, root) == []
    mat = root / "info/query_IDX.mat"
    mat.write_bytes(mat.read_bytes() + b"\0")
    assert dl.check_layout(dl.MARS, root) == [
        f"{mat}: md5 {md5(mat.read_bytes())}, expected f939e70b087615653035f1cf38467e25"
    ]
    (root / "info/test_name.txt").unlink()
    shutil.rmtree(root / "bbox_test")
    assert dl.check_layout(dl.MARS, root)[:2] == [
        f"missing folder {root / 'bbox_test'}/",
        f"missing file {root / 'info/test_name.txt'}",
    ]


def test_mars_deep_check_uses_the_reader(tmp_path, monkeypatch):
    unchecked = tuple((rel, None) for rel, _ in dl.MARS.files)
    monkeypatch.setitem(dl.SOURCES, "mars", dataclasses.replace(dl.MARS, files=unchecked))
    root = mars_layout(tmp_path)
    monkeypatch.setitem(sys.modules, "stsrn_lite.data.mars", None)  # the module is absent
    assert "Deep check skipped" in dl.fetch_dataset("mars", root)[1]
    calls = []

    def read_mars(root: Path, *, verify_files: bool = True):
        calls.append((root, verify_files))
        raise DatasetError(f"{root}/bbox_train/0001: empty person folder")

    fake = types.ModuleType("stsrn_lite.data.mars")
    fake.read_mars = read_mars
    monkeypatch.setitem(sys.modules, "stsrn_lite.data.mars", fake)
    with pytest.raises(dl.DownloadError, match="reader rejects them: .*empty person folder"):
        dl.fetch_dataset("mars", root)  # all three folders present: checked without --check
    assert calls == [(root, True)]


# ---------------------------------------------------------------- command line


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "data_scripts/download.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_cli_mars_prints_steps_and_check_fails(tmp_path):
    done = cli("mars", "--root", str(tmp_path))
    assert done.returncode == 0, done.stderr
    for name in (
        "bbox_train.zip",
        "bbox_test.zip",
        "train_name.txt",
        "test_name.txt",
        "tracks_train_info.mat",
        "tracks_test_info.mat",
        "query_IDX.mat",
        f"{tmp_path / 'info'}/",
    ):
        assert name in done.stdout
    checked = cli("mars", "--root", str(tmp_path), "--check")
    assert checked.returncode == 1 and checked.stdout == ""
    assert checked.stderr.startswith("error: The MARS layout") and "Traceback" not in checked.stderr
    assert f"missing folder {tmp_path / 'bbox_train'}/" in checked.stderr


def test_cli_rejects_unknown_dataset(tmp_path):
    done = cli("nosuch", "--root", str(tmp_path))
    assert done.returncode == 2 and "invalid choice" in done.stderr
