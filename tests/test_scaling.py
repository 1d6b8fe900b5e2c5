"""Unit tests for genrl_lib.scaling.Scaler, the library's one per-feature scaler."""

import json

import gymnasium as gym
import numpy as np
import pytest
import torch

from genrl_lib.io import load_arrays, save_arrays
from genrl_lib.nets import ObsEncoder
from genrl_lib.scaling import Scaler

RNG = np.random.default_rng(0)
X = (RNG.normal(3, 5, (50, 4)) * [1, 10, 100, 0.01]).astype(np.float32)


@pytest.mark.parametrize("kind", [None, "standard", "minmax"])
@pytest.mark.parametrize("floor", ["unit", "relative", 1.0])
def test_round_trip_and_shapes(kind, floor):
    s = Scaler(kind, floor).fit(X)
    assert s.fitted and s.dim == 4 and s.shift.dtype == s.scale.dtype == np.float32
    z = s.transform(X)
    assert z.shape == X.shape and z.dtype == np.float32
    assert np.allclose(s.inverse_transform(z), X, rtol=1e-5, atol=1e-4)
    one = s.transform(X[0])                                      # one row (d,) keeps its shape
    assert one.shape == (4,) and np.array_equal(one, z[0])
    assert s.transform(X[None]).shape == (1, 50, 4)              # any leading axes


def test_fixed_arithmetic():
    s = Scaler("standard").fit(X)
    x64 = X.astype(np.float64)
    assert np.array_equal(s.shift, x64.mean(0).astype(np.float32))
    assert np.array_equal(s.scale, x64.std(0).astype(np.float32))
    assert np.array_equal(s.transform(X), (X - s.shift) / s.scale)
    assert np.array_equal(s.inverse_transform(X), X * s.scale + s.shift)


def test_floors_for_a_constant_feature():
    x = np.array([[1.0, 10.0], [1.0, 30.0]])
    assert np.array_equal(Scaler("standard", "unit").fit(x).scale, [1, 10])             # passes unscaled
    assert np.array_equal(Scaler("standard", 20.0).fit(x).scale, [20, 20])              # absolute floor
    rel = Scaler("standard", "relative").fit(x).scale
    assert rel[1] == 10 and rel[0] == np.float32(1e-6 * 10 + 1e-8)                      # tiny, not 0
    with pytest.raises(ValueError, match="floor must be"):
        Scaler("standard", floor=0)
    with pytest.raises(ValueError, match="floor must be one of"):
        Scaler("standard", floor="huge")
    with pytest.raises(ValueError, match="normalize must be one of"):
        Scaler("zscore")


def test_bad_shapes_name_the_argument():
    s = Scaler().fit(X)
    with pytest.raises(ValueError, match=r"observation has shape \(3,\).*4 features"):
        s.transform(np.zeros(3), "observation")
    with pytest.raises(ValueError, match=r"y has shape \(2, 5\)"):
        s.inverse_transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"demos must be a non-empty \(N, d\) array"):
        Scaler().fit(np.zeros(3), "demos")
    with pytest.raises(RuntimeError, match="not fitted"):
        Scaler().transform(X)
    with pytest.raises(ValueError, match="obs_shift and obs_scale must have 4 entries"):
        Scaler.from_shift_scale(np.zeros(3), np.ones(4), 4, ("obs_shift", "obs_scale"))
    with pytest.raises(ValueError, match="scale must be positive"):
        Scaler.from_shift_scale(np.zeros(2), [1.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        Scaler.from_shift_scale([np.nan, 0.0], [1.0, 1.0])


def test_save_and_restore_without_pickle(tmp_path):
    s = Scaler("minmax").fit(X)
    back = Scaler.from_dict(json.loads(json.dumps(s.to_dict())))          # JSON
    assert back.kind == "minmax" and np.array_equal(back.transform(X), s.transform(X))
    save_arrays(tmp_path / "s.npz", "scaler", s.state())                   # plain arrays
    again = Scaler("minmax").load_state(load_arrays(tmp_path / "s.npz", "scaler")[0])
    assert np.array_equal(again.shift, s.shift) and np.array_equal(again.scale, s.scale)
    torch_state = {k: torch.from_numpy(v) for k, v in s.state().items()}   # as the models' .pt files hold it
    assert np.array_equal(Scaler().load_state(torch_state).scale, s.scale)
    assert Scaler.from_dict(Scaler("standard").to_dict()).fitted is False   # an unfitted recipe
    state = s.state()
    state["shift"][:] = 0                                                  # a copy, not the scaler's array
    assert s.shift.any()


def test_identity_and_obs_encoder_use_it():
    assert Scaler.identity(3).is_identity and not Scaler().fit(X).is_identity
    enc = ObsEncoder.fit(gym.spaces.Box(-np.inf, np.inf, (4,)), X)
    ref = Scaler("standard", "relative").fit(X)
    assert np.array_equal(enc(X), ref.transform(X)) and np.array_equal(enc.shift, ref.shift)
    assert ObsEncoder(gym.spaces.Discrete(3)).scaler.is_identity
