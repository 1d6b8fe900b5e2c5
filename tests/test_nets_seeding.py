import contextlib
import random

import gymnasium as gym
import numpy as np
import pytest
import torch

from genrl_lib.nets import action_dim, check_space, mlp, obs_dim, obs_to_tensor
from genrl_lib.seeding import check_seed, set_seed, single_thread


def test_mlp_shapes_and_init():
    net = mlp(4, 2, hidden=(8, 8), out_gain=0.01)
    assert net(torch.zeros(5, 4)).shape == (5, 2)
    with torch.no_grad():
        assert float(net[-1].weight.abs().max()) < 0.1 and float(net[0].bias.abs().max()) == 0.0
    with pytest.raises(ValueError, match="activation"):
        mlp(4, 2, activation="swish!")
    with pytest.raises(ValueError, match="positive"):
        mlp(0, 2)


def test_obs_encoding():
    d = gym.spaces.Discrete(5)
    x = obs_to_tensor(np.array([0, 4]), d)
    assert x.shape == (2, 5) and x[1, 4] == 1 and x.sum() == 2
    assert obs_to_tensor(3, d).shape == (1, 5)
    b = gym.spaces.Box(-1, 1, (2, 3))
    assert obs_to_tensor(np.zeros((4, 2, 3)), b).shape == (4, 6)
    assert obs_dim(d) == 5 and obs_dim(b) == 6 and action_dim(gym.spaces.Discrete(3)) == 3
    with pytest.raises(ValueError, match="outside"):
        obs_to_tensor(7, d)
    with pytest.raises(TypeError, match="observation_space must be"):
        obs_dim(gym.spaces.Dict({"a": d}))
    with pytest.raises(TypeError, match="action_space must be a gymnasium Discrete"):
        check_space(b, "action_space", (gym.spaces.Discrete,))


def test_set_seed_repeats_every_generator():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()
    rng1 = set_seed(7)
    a = draw(), rng1.random()
    rng2 = set_seed(7)
    assert (draw(), rng2.random()) == a
    with pytest.raises(ValueError, match="non-negative"):
        set_seed(-1)
    with pytest.raises(TypeError, match="seed must be"):
        check_seed(1.5)


def test_factored_one_hot_decodes_taxi_states():
    from genrl_lib.nets import TAXI_FACTORS, factored_one_hot
    taxi = gym.make("Taxi-v4").unwrapped
    space = taxi.observation_space
    x = factored_one_hot(np.arange(500), space, TAXI_FACTORS)
    assert x.shape == (500, 19) and x.dtype == torch.float32 and (x.sum(1) == 4).all()
    offsets = np.cumsum((0, *TAXI_FACTORS[:-1]))
    for s in (0, 17, 123, 499):      # each block is one of (taxi row, taxi col, passenger location, destination)
        assert list(np.flatnonzero(x[s].numpy()) - offsets) == list(taxi.decode(s))
    assert torch.equal(factored_one_hot(17, space, TAXI_FACTORS), x[17:18])
    with pytest.raises(ValueError, match="multiply to 400"):
        factored_one_hot(0, space, (5, 5, 4, 4))
    with pytest.raises(ValueError, match="positive ints"):
        factored_one_hot(0, space, (500, 0))
    with pytest.raises(TypeError, match="Discrete"):
        factored_one_hot(np.zeros(4), gym.spaces.Box(-1, 1, (4,)), (2, 2))
    with pytest.raises(ValueError, match="outside"):
        factored_one_hot(500, space, TAXI_FACTORS)


def test_check_factors_without_a_space_checks_the_form_only():
    from genrl_lib.nets import check_factors

    assert check_factors([5, np.int64(4)]) == (5, 4)
    for bad in ("55", (), (5, True), (5, 2.5), (5, 0)):
        with pytest.raises(ValueError, match="tuple of positive ints"):
            check_factors(bad)


@contextlib.contextmanager
def _torch_threads(n):
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _blas_threads():
    from threadpoolctl import threadpool_info
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_single_thread_pins_torch_and_blas_then_restores():
    old_blas = _blas_threads()
    with _torch_threads(2):
        with single_thread():
            assert torch.get_num_threads() == 1 and all(n == 1 for n in _blas_threads())
        assert torch.get_num_threads() == 2 and _blas_threads() == old_blas
        with pytest.raises(RuntimeError):          # restored also when the block raises
            with single_thread():
                raise RuntimeError("boom")
        assert torch.get_num_threads() == 2
        with single_thread(None):                  # None: change nothing
            assert torch.get_num_threads() == 2
    for bad in (0, -1, 1.5, True, "1"):
        with pytest.raises(ValueError, match="threads"):
            with single_thread(bad):
                pass


def test_orthogonal_mlp_init_does_not_depend_on_torch_threads():
    """torch's orthogonal_ (a QR) rounds differently on 2 threads; mlp must give the same weights."""
    nets = []
    for threads in (1, 2):
        with _torch_threads(threads):
            torch.manual_seed(0)
            nets.append(mlp(500, 6, hidden=(256, 64), out_gain=0.01))
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.equal(a, b)


def test_ppo_run_does_not_depend_on_thread_settings():
    """The same seed gives bit-identical weights whether the caller runs torch on 1 or 2 threads."""
    from genrl_lib.ppo import PPO

    params = []
    for threads in (1, 2):
        with _torch_threads(threads):
            agent = PPO("CartPole-v1", seed=3, n_envs=4, n_steps=64, batch_size=64, n_epochs=2)
            agent.learn(2048, progress_bar=False)
            params.append([p.detach().clone() for p in agent.actor.parameters()])
            agent.close()
    assert all(torch.equal(a, b) for a, b in zip(*params))


def test_check_sizes_refuses_strings_and_non_positive_sizes():
    from genrl_lib.nets import check_sizes
    assert check_sizes([64, np.int64(32)]) == (64, 32) and check_sizes(()) == ()
    with pytest.raises(TypeError, match=r"hidden must be a tuple of positive ints.*'64'"):
        check_sizes("64")
    with pytest.raises(TypeError, match=r"write \(64,\)"):
        check_sizes(64)
    for bad in ((64, 0), (64.5,), (True,)):
        with pytest.raises(ValueError, match="net_arch must be a tuple of positive ints"):
            check_sizes(bad, "net_arch")


def test_check_obs_one_or_a_batch():
    import gymnasium as gym

    from genrl_lib.nets import check_obs
    box = gym.spaces.Box(-1, 1, (4,))
    x, single = check_obs(np.zeros(4), box)
    assert single and x.shape == (1, 4)
    x, single = check_obs(np.zeros((3, 4)), box)
    assert not single and x.shape == (3, 4)
    for bad in (np.zeros(8), np.zeros((2, 3)), np.zeros((1, 1, 4))):
        with pytest.raises(ValueError, match="obs has shape"):
            check_obs(bad, box)
    with pytest.raises(ValueError, match="NaN"):
        check_obs(np.full(4, np.nan), box)
    with pytest.raises(ValueError, match="numeric"):
        check_obs("left", box)
    disc = gym.spaces.Discrete(5, start=1)
    assert check_obs(3, disc)[1] and check_obs(np.array([1, 5]), disc)[0].tolist() == [1, 5]
    with pytest.raises(ValueError, match="integer state"):
        check_obs(1.5, disc)
    with pytest.raises(ValueError, match="outside"):
        check_obs(0, disc)
