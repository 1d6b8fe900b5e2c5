import numpy as np
import pytest
import torch

from genrl_lib import io


def test_arrays_round_trip_and_kind_check(tmp_path):
    p = io.save_arrays(tmp_path / "q.npz", "q_table", {"q": np.arange(6.0).reshape(3, 2)}, {"env": "Taxi-v4"})
    arrays, meta = io.load_arrays(p, "q_table")
    assert np.array_equal(arrays["q"], np.arange(6.0).reshape(3, 2)) and meta == {"env": "Taxi-v4"}
    with pytest.raises(ValueError, match="holds a 'q_table', not a 'dqn'"):
        io.load_arrays(p, "dqn")


def test_foreign_and_corrupt_files(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="not a genrl_lib file"):
        io.load_arrays(tmp_path / "plain.npz", "q_table")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="corrupt"):
        io.load_arrays(tmp_path / "junk.npz", "q_table")
    with pytest.raises(FileNotFoundError):
        io.load_arrays(tmp_path / "missing.npz", "q_table")
    np.save(tmp_path / "bare.npy", np.ones(3))
    with pytest.raises(ValueError, match="bare array"):
        io.load_arrays(tmp_path / "bare.npy", "q_table")
    (tmp_path / "junk.pt").write_bytes(b"\x00" * 10)
    with pytest.raises(ValueError, match="corrupt or not a genrl_lib model"):
        io.load_torch(tmp_path / "junk.pt", "dqn")
    torch.save({"weights": torch.ones(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="no genrl header"):
        io.load_torch(tmp_path / "other.pt", "dqn")


class Evil:
    """Any class instance: loading it would need unpickling arbitrary code."""


def test_pickled_objects_are_refused(tmp_path):
    torch.save({"genrl": "{}", "state": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="corrupt or not a genrl_lib model"):
        io.load_torch(tmp_path / "evil.pt", "dqn")


def test_torch_round_trip(tmp_path):
    net = torch.nn.Linear(3, 2)
    io.save_torch(tmp_path / "m.pt", "dqn", {"q": net.state_dict()}, {"hidden": [64]})
    state, meta = io.load_torch(tmp_path / "m.pt", "dqn")
    assert meta == {"hidden": [64]} and torch.equal(state["q"]["weight"], net.weight)


def test_failed_save_keeps_previous_file(tmp_path):
    target = tmp_path / "r.json"
    io.save_json(target, {"v": 1})
    with pytest.raises(TypeError):
        io.save_json(target, {"v": object()})   # not JSON-serializable: fails mid-save
    assert io.load_json(target) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temp file left behind
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        io.load_json(tmp_path / "bad.json")


def test_space_json_round_trip():
    import gymnasium as gym

    for space in [gym.spaces.Discrete(5, start=1), gym.spaces.Box(-np.inf, np.inf, (4,), np.float32),
                  gym.spaces.Box(np.zeros((2, 2)), np.ones((2, 2)))]:
        assert io.space_from_json(io.space_to_json(space)) == space
    with pytest.raises(TypeError, match="only Discrete and Box"):
        io.space_to_json(gym.spaces.MultiBinary(3))
    with pytest.raises(ValueError, match="not a saved space"):
        io.space_from_json({"type": "Dict"})


def test_checksum_detects_a_flipped_bit_in_numbers_and_meta(tmp_path):
    w = torch.arange(16, dtype=torch.float32)
    p = io.save_torch(tmp_path / "m.pt", "dqn", {"q": {"w": w}}, {"lr": 0.5})
    data = bytearray(p.read_bytes())
    at = data.find(w.numpy().tobytes())
    data[at + 5] ^= 0x01
    (tmp_path / "bad.pt").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"bad\.pt is corrupt: its checksum"):
        io.load_torch(tmp_path / "bad.pt", "dqn")
    assert io.checksum({"a": w}, {"x": 1}) != io.checksum({"a": w}, {"x": 2})
    assert io.checksum({"a": w, "b": 1}) == io.checksum({"b": 1, "a": w.clone()})
    q = io.save_arrays(tmp_path / "q.npz", "q_table", {"q": np.zeros(3)}, {"v": 1})
    arrays, _ = io.load_arrays(q, "q_table")
    torch.save({"genrl": '{"genrl_kind": "dqn", "format_version": 1, "meta": {}}', "state": {}}, tmp_path / "v1.pt")
    with pytest.raises(ValueError, match="had no checksum"):
        io.load_torch(tmp_path / "v1.pt", "dqn")


def test_text_file_is_refused_naming_it(tmp_path):
    (tmp_path / "notes.pt").write_text("hello")
    with pytest.raises(ValueError, match=r"notes\.pt is corrupt or not a genrl_lib model file"):
        io.load_torch(tmp_path / "notes.pt", "dqn")


def test_saves_follow_the_umask_name_the_target_and_clean_up_killed_saves(tmp_path):
    import os
    old = os.umask(0o022)
    try:
        p = io.save_json(tmp_path / "r.json", {"v": 1})
    finally:
        os.umask(old)
    assert p.stat().st_mode & 0o777 == 0o644
    stale = tmp_path / ".r.json.999999999.abcd1234.tmp"   # a pid that cannot run: a killed save's leftover
    stale.write_text("half")
    mine = tmp_path / f".r.json.{os.getpid()}.abcd1234.tmp"   # a save in progress in this process: kept
    mine.write_text("busy")
    io.save_json(tmp_path / "r.json", {"v": 2})
    assert not stale.exists() and mine.exists()
    mine.unlink()
    with pytest.raises(IsADirectoryError, match=f"cannot save to {tmp_path}: it is a directory"):
        io.save_json(tmp_path, {"v": 3})
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError, match=r"cannot save .*file/sub/r\.json"):
        io.save_json(tmp_path / "file" / "sub" / "r.json", {"v": 3})


def test_a_killed_save_leaves_its_temp_file_only_until_the_next_save(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    code = ("import sys, time; from genrl_lib.io import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n"
            "    tmp.write_bytes(b'x' * 1000); print('writing', flush=True); time.sleep(60)\n")
    target = tmp_path / "model.json"
    proc = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.1)
    leftovers = list(tmp_path.glob(".model.json.*.tmp"))
    assert len(leftovers) == 1 and not target.exists()      # killed: nothing could remove it
    io.save_json(target, {"v": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]
