"""The probe of issue 22: bad inputs against every public entry point, each expecting a clear error.

Each case is ``(id, call, error types, regex)``: ``call()`` must raise one of the error types with a message matching
the regex, which names the argument (or the file) at fault. Run as a script to count outcomes instead of asserting::

    python tests/test_bad_inputs.py      # clear error / raw traceback / silently accepted

The command lines (benchmarks, thesis table) are probed in ``tests/test_cli.py``.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

os.environ.setdefault("TQDM_DISABLE", "1")

_TMP: list[Path] = []


def _tmp() -> Path:
    if not _TMP:
        import atexit
        import shutil
        import tempfile
        _TMP.append(Path(tempfile.mkdtemp(prefix="genrl_probe_")))
        atexit.register(shutil.rmtree, _TMP[0], True)
    return _TMP[0]


@functools.cache
def _dqn():
    from genrl_lib.dqn import DQN
    return DQN("CartPole-v1", net_arch=(8,), learning_starts=0, batch_size=8, buffer_size=100)


@functools.cache
def _ppo(env_id: str = "CartPole-v1"):
    from genrl_lib.ppo import PPO
    return PPO(env_id, n_steps=32, batch_size=32, net_arch=(8,))


@functools.cache
def _reinforce():
    from genrl_lib.pg import REINFORCE
    return REINFORCE(gym.make("CartPole-v1"), net_arch=(8,))


@functools.cache
def _actor_critic():
    from genrl_lib.pg import ActorCritic
    return ActorCritic(gym.make("CartPole-v1"), net_arch=(8,))


@functools.cache
def _gail():
    from genrl_lib.gail import GAIL
    return GAIL("CartPole-v1", _demos(), n_envs=1, n_steps=32, batch_size=32)


@functools.cache
def _saved(which: str) -> Path:
    """A small saved file of each kind, written once per session."""
    p = _tmp() / {"dqn": "dqn.pt", "ppo": "ppo.pt", "reinforce": "reinforce.pt", "ac": "ac.pt"}[which]
    {"dqn": _dqn, "ppo": _ppo, "reinforce": _reinforce, "ac": _actor_critic}[which]().save(p)
    return p


def _text_file() -> Path:
    p = _tmp() / "notes.pt"
    p.write_text("hello, this is not a model\n")
    return p


def _flipped_dqn() -> Path:
    """The DQN file with one bit flipped inside the bytes of the last layer's bias (a silent corruption before)."""
    src = _saved("dqn")
    data = bytearray(src.read_bytes())
    bias = _dqn().q_net[-1].bias.detach().numpy().tobytes()
    at = data.find(bias)
    assert at >= 0
    data[at + 1] ^= 0x10
    p = _tmp() / "flipped.pt"
    p.write_bytes(bytes(data))
    return p


def _demos(**change):
    from genrl_lib.demonstrations import collect_demonstrations
    d = collect_demonstrations("CartPole-v1", lambda o: int(o[2] > 0), n_episodes=1, seed=0)
    import dataclasses
    arrays = {k: np.array(getattr(d, k)) for k in change}
    for k, f in change.items():
        f(arrays[k])
    return dataclasses.replace(d, **arrays)


def _set(idx, value):
    def f(a):
        a[idx] = value
    return f


def _taxi():
    return gym.make("Taxi-v4")


def _sinergym():
    pytest.importorskip("sinergym")
    from genrl_lib import buildings
    return buildings


V, T, FNF = ValueError, TypeError, FileNotFoundError


def _lazy(mod, name):
    """``mod.name`` imported at call time (so that collecting the probe stays fast)."""
    import importlib
    return getattr(importlib.import_module(f"genrl_lib.{mod}"), name)


def _call(mod, name, *args, **kwargs):
    return lambda: _lazy(mod, name)(*args, **kwargs)


CASES = [
    # --- 1. network sizes: positive ints only
    ("dqn-net_arch-str", _call("dqn", "DQN", "CartPole-v1", net_arch="64"), (T, V), r"net_arch"),
    ("dqn-net_arch-zero", _call("dqn", "DQN", "CartPole-v1", net_arch=(64, 0)), (T, V), r"net_arch"),
    ("dqn-net_arch-float", _call("dqn", "DQN", "CartPole-v1", net_arch=(64.7,)), (T, V), r"net_arch"),
    ("dqn-net_arch-int", _call("dqn", "DQN", "CartPole-v1", net_arch=64), (T, V), r"net_arch"),
    ("ppo-net_arch-str", _call("ppo", "PPO", "CartPole-v1", net_arch="64"), (T, V), r"net_arch"),
    ("ppo-net_arch-neg", _call("ppo", "PPO", "CartPole-v1", net_arch=(64, -1)), (T, V), r"net_arch"),
    ("reinforce-net_arch-str", lambda: _lazy("pg", "REINFORCE")(gym.make("CartPole-v1"), net_arch="64"), (T, V),
     r"net_arch"),
    ("ac-net_arch-bool", lambda: _lazy("pg", "ActorCritic")(gym.make("CartPole-v1"), net_arch=(True,)), (T, V),
     r"net_arch"),
    ("gail-disc_net_arch-str", lambda: _lazy("gail", "GAIL")("CartPole-v1", _demos(), disc_net_arch="64"), (T, V),
     r"disc_net_arch"),
    ("gan-g_hidden-str", _call("generative", "GANConfig", g_hidden="64"), (T, V), r"g_hidden"),
    # --- 2. predict: one observation of the space's shape or a batch of them, finite
    ("ppo-predict-shape8", lambda: _ppo().predict(np.zeros(8)), V, r"obs.*shape"),
    ("ppo-predict-nan", lambda: _ppo().predict(np.full(4, np.nan)), V, r"obs.*(NaN|finite)"),
    ("ppo-predict-2x3", lambda: _ppo().predict(np.zeros((2, 3))), V, r"obs.*shape"),
    ("ppo-predict-str", lambda: _ppo().predict("left"), (T, V), r"obs"),
    ("dqn-predict-shape8", lambda: _dqn().predict(np.zeros(8)), V, r"obs.*shape"),
    ("dqn-predict-nan", lambda: _dqn().predict(np.full(4, np.nan)), V, r"obs.*(NaN|finite)"),
    ("dqn-taxi-predict-float", lambda: _lazy("dqn", "DQN")("Taxi-v4", net_arch=(8,)).predict(1.5), V,
     r"obs.*(int|integer)"),
    ("dqn-taxi-predict-outside", lambda: _lazy("dqn", "DQN")("Taxi-v4", net_arch=(8,)).predict(500), V, r"obs"),
    ("reinforce-predict-shape8", lambda: _reinforce().predict(np.zeros(8)), V, r"obs.*shape"),
    ("reinforce-predict-nan", lambda: _reinforce().predict(np.full(4, np.nan)), V, r"obs.*(NaN|finite)"),
    ("gail-predict-shape8", lambda: _gail().predict(np.zeros(8)), V, r"obs.*shape"),
    ("gail-predict-nan", lambda: _gail().predict(np.full(4, np.nan)), V, r"obs.*(NaN|finite)"),
    ("ac-predict-shape3", lambda: _actor_critic().predict(np.zeros(3)), V, r"obs.*shape"),
    # --- 3. loads that detect corruption and foreign files
    ("dqn-load-text", lambda: _lazy("dqn", "DQN").load(_text_file()), V, r"notes\.pt"),
    ("dqn-load-bitflip", lambda: _lazy("dqn", "DQN").load(_flipped_dqn()), V, r"flipped\.pt.*(checksum|corrupt)"),
    ("dqn-load-missing", lambda: _lazy("dqn", "DQN").load(_tmp() / "nope.pt"), FNF, r"nope\.pt"),
    ("dqn-load-ppo", lambda: _lazy("dqn", "DQN").load(_saved("ppo")), V, r"ppo\.pt.*ppo"),
    ("ppo-load-dqn", lambda: _lazy("ppo", "PPO").load(_saved("dqn")), V, r"dqn\.pt.*dqn"),
    ("ppo-load-text", lambda: _lazy("ppo", "PPO").load(_text_file()), V, r"notes\.pt"),
    ("ac-load-reinforce", lambda: _lazy("pg", "ActorCritic").load(_saved("reinforce")), V,
     r"reinforce\.pt.*REINFORCE"),
    ("reinforce-load-ac", lambda: _lazy("pg", "REINFORCE").load(_saved("ac")), V, r"ac\.pt.*ActorCritic"),
    ("gan-load-dqn", lambda: _lazy("generative", "GAN").load(_saved("dqn")), V, r"dqn\.pt"),
    ("demos-load-text", lambda: _lazy("demonstrations", "Demonstrations").load(_text_file()), V, r"notes\.pt"),
    ("qtable-load-dqn", _call("tabular", "load_q_table", _tmp() / "dqn.pt"), (V, FNF), r"dqn\.pt"),
    ("dqn-save-onto-dir", lambda: _dqn().save(_tmp()), (OSError, V), re.escape(_tmp().name) + r".*director"),
    # --- 5. tabular
    ("vi-max_iter-0", lambda: _lazy("tabular", "value_iteration")(_taxi(), max_iter=0), V, r"max_iter"),
    ("vi-max_iter-float", lambda: _lazy("tabular", "value_iteration")(_taxi(), max_iter=2.5), (T, V), r"max_iter"),
    ("vi-tol-nan", lambda: _lazy("tabular", "value_iteration")(_taxi(), tol=float("nan")), V, r"tol"),
    ("vi-gamma-nan", lambda: _lazy("tabular", "value_iteration")(_taxi(), gamma=float("nan")), V, r"gamma"),
    ("vi-gamma-str", lambda: _lazy("tabular", "value_iteration")(_taxi(), gamma="0.9"), (T, V), r"gamma"),
    ("qlearning-episodes-0", lambda: _lazy("tabular", "q_learning")(_taxi(), n_episodes=0), V, r"n_episodes"),
    ("qlearning-alpha-nan", lambda: _lazy("tabular", "q_learning")(_taxi(), 10, alpha=float("nan")), V, r"alpha"),
    ("evaluate-episodes-0", lambda: _lazy("evaluation", "evaluate_policy")(lambda o: 0, "CartPole-v1", 0), V,
     r"n_episodes"),
    # --- 7. finiteness of hyperparameters: blame the argument, not the env
    ("ppo-log_std_init-nan", _call("ppo", "PPO", "Pendulum-v1", log_std_init=float("nan")), V, r"log_std_init"),
    ("ppo-log_std_init-inf", _call("ppo", "PPO", "Pendulum-v1", log_std_init=float("inf")), V, r"log_std_init"),
    ("ppo-lr-inf", _call("ppo", "PPO", "CartPole-v1", learning_rate=float("inf")), V, r"learning_rate"),
    ("ppo-lr-str", _call("ppo", "PPO", "CartPole-v1", learning_rate="3e-4"), (T, V), r"learning_rate"),
    ("ppo-max_grad_norm-inf", _call("ppo", "PPO", "CartPole-v1", max_grad_norm=float("inf")), V, r"max_grad_norm"),
    ("ppo-normalize_advantage-str", _call("ppo", "PPO", "CartPole-v1", normalize_advantage="no"), (T, V),
     r"normalize_advantage"),
    ("reinforce-ent_coef-nan", lambda: _lazy("pg", "REINFORCE")(gym.make("CartPole-v1"), ent_coef=float("nan")), V,
     r"ent_coef"),
    ("reinforce-max_grad_norm-nan",
     lambda: _lazy("pg", "REINFORCE")(gym.make("CartPole-v1"), max_grad_norm=float("nan")), V, r"max_grad_norm"),
    ("reinforce-gamma-str", lambda: _lazy("pg", "REINFORCE")(gym.make("CartPole-v1"), gamma="0.99"), (T, V),
     r"gamma"),
    ("reinforce-baseline-str", lambda: _lazy("pg", "REINFORCE")(gym.make("CartPole-v1"), baseline="yes"), (T, V),
     r"baseline"),
    ("dqn-lr-str", _call("dqn", "DQN", "CartPole-v1", learning_rate="1e-3"), (T, V), r"learning_rate"),
    ("dqn-lr-inf", _call("dqn", "DQN", "CartPole-v1", learning_rate=float("inf")), V, r"learning_rate"),
    ("dqn-gamma-nan", _call("dqn", "DQN", "CartPole-v1", gamma=float("nan")), V, r"gamma"),
    ("dqn-double-str", _call("dqn", "DQN", "CartPole-v1", double_dqn="no"), (T, V), r"double_dqn"),
    ("ppo-reward_fn-str", _call("ppo", "PPO", "CartPole-v1", reward_fn="gail"), T, r"reward_fn"),
    ("bc-lr-inf", lambda: _lazy("bc", "BCConfig")(learning_rate=float("inf")).validate(), V, r"learning_rate"),
    ("vae-hidden-str", _call("generative", "VAEConfig", hidden="32"), (T, V), r"hidden"),
    ("dqn-learn-0", lambda: _dqn().learn(0), V, r"total_timesteps"),
    ("ppo-learn-float", lambda: _ppo().learn(64.5), (T, V), r"total_timesteps"),
    # --- 8. demonstrations: actions in the action space, finite observations
    ("gail-demo-action-7", lambda: _lazy("gail", "GAIL")("CartPole-v1", _demos(actions=_set(0, 7))), V,
     r"actions"),
    ("gail-demo-obs-nan", lambda: _lazy("gail", "GAIL")("CartPole-v1", _demos(observations=_set(0, np.nan))), V,
     r"observations"),
    ("demos-action-7", lambda: _demos(actions=_set(0, 7)), V, r"actions"),
    ("demos-obs-inf", lambda: _demos(next_observations=_set(1, np.inf)), V, r"next_observations"),
    ("gail-demos-list", lambda: _lazy("gail", "GAIL")("CartPole-v1", [1, 2, 3]), T, r"demonstrations"),
    # --- 9. buildings: validated before EnergyPlus is touched
    ("building-seed-neg", lambda: _sinergym().make_building_env("5zone", seed=-1), V, r"seed"),
    ("building-discrete-str", lambda: _sinergym().make_building_env("5zone", discrete="no"), T, r"discrete"),
    ("building-bogus", lambda: _sinergym().make_building_env("bogus"), V, r"building"),
    ("building-period-bogus", lambda: _sinergym().make_building_env("5zone", period="fortnight"), V, r"period"),
    # --- 10. data for the generative models
    ("gan-fit-tuple", lambda: _lazy("generative", "GAN")(2).fit(_lazy("datasets", "ring_of_gaussians")(256)), (T, V),
     r"data.*\(x, labels\)"),
    ("vae-fit-tuple", lambda: _lazy("generative", "VAE")(2).fit(_lazy("datasets", "two_moons")(64)), (T, V),
     r"data.*\(x, labels\)"),
    ("gan-fit-nan", lambda: _lazy("generative", "GAN")(2).fit(np.full((8, 2), np.nan)), V, r"data.*NaN"),
    ("gan-dim-0", _call("generative", "GAN", 0), (T, V), r"dim"),
    ("gan-sample-0", lambda: _lazy("generative", "GAN")(2).sample(0), V, r"\bn\b"),
    ("ring-n-0", _call("datasets", "ring_of_gaussians", 0), V, r"\bn\b"),
    ("ring-std-neg", _call("datasets", "ring_of_gaussians", 16, std=-1.0), V, r"std"),
    ("moons-n-str", _call("datasets", "two_moons", "64"), (T, V), r"\bn\b"),
    # --- siblings: envs, seeds
    ("make-unknown-env", _call("envs", "make", "CartPol-v1"), (V, gym.error.Error), r"CartPol"),
    ("set_seed-neg", _call("seeding", "set_seed", -1), V, r"seed"),
    ("dqn-seed-float", _call("dqn", "DQN", "CartPole-v1", seed=1.5), (T, V), r"seed"),
]


@pytest.mark.parametrize("call, errors, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error(call, errors, pattern):
    with pytest.raises(errors, match=pattern):
        call()


def classify(call, errors, pattern) -> str:
    """``"clear"`` (the expected error naming the argument), ``"raw"`` (any other exception) or ``"silent"``."""
    try:
        call()
    except pytest.skip.Exception:
        return "skipped"
    except BaseException as e:  # noqa: BLE001 - classifying every outcome is the point
        ok = isinstance(e, errors) and re.search(pattern, str(e))
        return "clear" if ok else f"raw ({type(e).__name__}: {str(e)[:100]})"
    return "silent"


if __name__ == "__main__":
    counts: dict[str, int] = {}
    for name, call, errors, pattern in CASES:
        outcome = classify(call, errors, pattern)
        key = outcome.split(" ")[0]
        counts[key] = counts.get(key, 0) + 1
        if key != "clear":
            print(f"{name:32s} {outcome}")
    print(counts, "of", len(CASES))
    sys.exit(0)


def test_obs_encoding_is_checked_in_one_place_for_bc_and_gail():
    from genrl_lib.bc import BCConfig
    from genrl_lib.checks import OBS_ENCODINGS, check_obs_encoding
    from genrl_lib.gail import GAILConfig

    assert OBS_ENCODINGS == ("one_hot", "factored", "one_hot+factored")
    check_obs_encoding("one_hot", None)
    check_obs_encoding("factored", (5, 5, 5, 4))
    with pytest.raises(ValueError, match="obs_encoding must be one of"):
        check_obs_encoding("onehot", None)
    for cfg in (BCConfig, GAILConfig):
        with pytest.raises(ValueError, match="obs_factors goes with obs_encoding='factored'"):
            cfg(obs_encoding="factored").validate()
        with pytest.raises(ValueError, match="obs_factors goes with"):
            cfg(obs_factors=(5, 5, 5, 4)).validate()
