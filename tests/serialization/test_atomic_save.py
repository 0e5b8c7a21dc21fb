"""``cr.save`` replaces a file atomically, and the temporary files of saves killed on the way
never pile up: the next save of the same path removes them, leaving alone those a live save
still holds."""

import fcntl
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.serialization.files import remove_stale_temps


def temps(folder: Path, name: str = "w.safetensors") -> list[str]:
    return sorted(p for p in os.listdir(folder) if p.startswith(f".{name}.")
                  and p.endswith(".tmp"))


def test_a_stale_temp_file_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "w.safetensors"
    stale = tmp_path / ".w.safetensors.k2j_9xq0.tmp"  # as a killed save leaves it
    stale.write_bytes(b"half a checkpoint")
    cr.save({"w": cr.ones(2)}, path)
    assert sorted(os.listdir(tmp_path)) == ["w.safetensors"]


def test_a_temp_file_of_a_live_save_is_left_alone(tmp_path):
    path = tmp_path / "w.safetensors"
    live = tmp_path / ".w.safetensors.abcdefgh.tmp"
    live.write_bytes(b"being written")
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a save in another process holds it
        cr.save({"w": cr.ones(2)}, path)
        assert live.exists()
    finally:
        os.close(fd)  # the writer died: its lock is gone
    cr.save({"w": cr.ones(2)}, path)
    assert not live.exists()


def test_only_this_paths_temp_files_are_touched(tmp_path):
    keep = [".other.safetensors.abcdefgh.tmp",  # another checkpoint's
            ".w.safetensors.abcdefghi.tmp",  # not a name tempfile makes
            ".w.safetensors.ABCDEFGH.tmp", ".w.safetensors.abc.efgh.tmp",
            "w.safetensors.abcdefgh.tmp", ".w.safetensors.abcdefgh.tmpx"]
    for name in keep:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / ".w.safetensors.dir_0000.tmp").mkdir()
    link = tmp_path / ".w.safetensors.link0000.tmp"
    link.symlink_to(tmp_path / keep[0])
    assert remove_stale_temps(str(tmp_path), "w.safetensors") == 0
    cr.save({"w": cr.ones(2)}, tmp_path / "w.safetensors")
    assert sorted(os.listdir(tmp_path)) == sorted(
        keep + [".w.safetensors.dir_0000.tmp", link.name, "w.safetensors"])


def test_a_failed_save_removes_its_own_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    cr.save({"w": cr.zeros(2)}, path)
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("no room")))
    with pytest.raises(OSError, match="no room"):
        cr.save({"w": cr.ones(2)}, path)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["w.safetensors"]
    assert cr.load(path)["w"].tolist() == [0.0, 0.0]


# ---- killing saving processes -----------------------------------------------------------------
# A server imports chainrule once and forks a child per round that saves two versions in turn,
# forever; the test kills each child with SIGKILL at a random moment.
SERVER = textwrap.dedent("""
    import os, sys
    import numpy as np
    import chainrule as cr

    path, n = sys.argv[1], int(sys.argv[2])
    versions = [{"w": np.full(n, float(v), np.float32), "version": v} for v in (0, 1)]
    for line in sys.stdin:
        cmd, arg = line.split()
        if cmd == "fork":
            pid = os.fork()
            if pid == 0:
                i = int(arg)
                while True:
                    cr.save(versions[i % 2], path)
                    i += 1
            print(pid, flush=True)
        elif cmd == "reap":
            _, status = os.waitpid(int(arg), 0)
            print(os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1, flush=True)
        elif cmd == "save":
            cr.save(versions[int(arg)], path)
            print("saved", flush=True)
""")


def _version(path: Path) -> int:
    """Which version the file holds, checking it holds exactly that one."""
    got = cr.load(path)
    v = got["version"]
    assert v in (0, 1) and got["w"].dtype == cr.float32
    np.testing.assert_array_equal(got["w"].numpy(), np.full(got["w"].shape, float(v)))
    return v


def test_killed_saves_leave_the_old_or_the_new_file_and_no_temp_files(tmp_path):
    path = tmp_path / "w.safetensors"
    src = str(Path(cr.__file__).parents[1])
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(path), str(1 << 20)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env=env)

    def ask(line: str) -> str:
        server.stdin.write(line + "\n")
        server.stdin.flush()
        return server.stdout.readline().strip()

    rng = random.Random(0)
    kills, left_a_temp, versions = 20, 0, set()
    try:
        assert ask("save 0") == "saved"
        for k in range(kills):
            pid = int(ask(f"fork {k}"))
            time.sleep(rng.uniform(0.0, 0.08))
            os.kill(pid, signal.SIGKILL)
            assert ask(f"reap {pid}") == str(int(signal.SIGKILL))  # killed, mid-loop
            versions.add(_version(path))  # never half a file
            found = temps(tmp_path)
            assert len(found) <= 1, found  # each save removed the leftovers before it
            left_a_temp += bool(found)
        assert ask("save 1") == "saved"
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    assert temps(tmp_path) == [] and sorted(os.listdir(tmp_path)) == ["w.safetensors"]
    assert _version(path) == 1
    assert versions == {0, 1}  # the kills landed at different points of the saves
    assert left_a_temp >= 1  # and some inside a write: there were leftovers to clean
