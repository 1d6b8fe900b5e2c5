"""Issue 17: one naming for the agents' public fields (SB3's). Old names raise a TypeError naming the new one,
and files saved under the old names still load."""

import dataclasses

import gymnasium as gym
import numpy as np
import pytest

from genrl_lib.checks import renamed, upgrade_config
from genrl_lib.decision_diffuser import DDConfig
from genrl_lib.demonstrations import collect_demonstrations
from genrl_lib.dqn import DQN, DQNConfig
from genrl_lib.gail import GAIL, GAILConfig
from genrl_lib.generative import GAN, AEConfig, Autoencoder, GANConfig
from genrl_lib.io import load_torch, save_torch
from genrl_lib.offline import BCRegressorConfig, ContinuousBC
from genrl_lib.pg import REINFORCE, PGConfig

OLD_CONFIG_NAMES = [
    (DQNConfig, "hidden", "net_arch", (8,)),
    (PGConfig, "hidden", "net_arch", (8,)),
    (GAILConfig, "disc_hidden", "disc_net_arch", (8,)),
    (GAILConfig, "disc_lr", "disc_learning_rate", 1e-3),
    (DDConfig, "hidden", "net_arch", (8,)),
    (DDConfig, "inv_hidden", "inv_net_arch", (8,)),
    (DDConfig, "lr", "learning_rate", 1e-3),
    (BCRegressorConfig, "hidden", "net_arch", (8,)),
    (BCRegressorConfig, "lr", "learning_rate", 1e-3),
]


@pytest.mark.parametrize(("cls", "old", "new", "value"), OLD_CONFIG_NAMES)
def test_old_config_field_raises_naming_the_new_one(cls, old, new, value):
    with pytest.raises(TypeError, match=rf"no keyword '{old}' any more: it is called '{new}'"):
        cls(**{old: value})
    assert getattr(cls(**{new: value}), new) == value                     # the new name works
    assert cls.RENAMED[old] == new and new in {f.name for f in dataclasses.fields(cls)}


def test_agents_refuse_old_hyperparameters():
    with pytest.raises(TypeError, match="DQN.*'hidden'.*'net_arch'"):
        DQN("CartPole-v1", hidden=(8,))
    with pytest.raises(TypeError, match="REINFORCE.*'hidden'.*'net_arch'"):
        REINFORCE("CartPole-v1", hidden=(8,))
    with pytest.raises(TypeError, match="GAIL.*'disc_lr'.*'disc_learning_rate'"):
        GAIL("CartPole-v1", None, disc_lr=1e-3)


def test_training_calls_refuse_progress():
    data = np.random.default_rng(0).random((8, 3)).astype(np.float32)
    with pytest.raises(TypeError, match=r"Autoencoder.fit\(\) has no keyword 'progress'.*'progress_bar'"):
        Autoencoder(3, AEConfig(latent_dim=1, hidden=(4,))).fit(data, 1, progress=False)
    with pytest.raises(TypeError, match=r"GAN.fit\(\).*'progress_bar'"):
        GAN(3, GANConfig(latent_dim=1, g_hidden=(4,), d_hidden=(4,))).fit(data, steps=1, progress=False)
    with pytest.raises(TypeError, match=r"ContinuousBC.learn\(\).*'progress_bar'"):
        ContinuousBC("Pendulum-v1").learn(None, progress=False)


def test_renamed_on_a_function_and_upgrade_config():
    @renamed(old="new")
    def f(*, new=1):
        return new

    assert f(new=2) == 2 and f.__name__ == "f"
    with pytest.raises(TypeError, match="'old' any more: it is called 'new'"):
        f(old=2)
    saved = {"hidden": [8], "lr": 0.1, "inv_hidden": [4], "steps": 3}
    assert upgrade_config(DDConfig, saved) == {"net_arch": [8], "learning_rate": 0.1, "inv_net_arch": [4], "steps": 3}
    assert upgrade_config(DDConfig, {"hidden": [1], "net_arch": [2]}) == {"net_arch": [2]}   # the new name wins
    assert upgrade_config(dict, {"lr": 1}) == {"lr": 1}                     # a class without renames: unchanged
    cfg = DDConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in upgrade_config(DDConfig, saved).items()})
    assert cfg.net_arch == (8,) and cfg.inv_net_arch == (4,) and cfg.learning_rate == 0.1


def _as_old_file(path, kind, renames, resume_lr=False):
    """Rewrite a saved file as code from before the rename wrote it: the config's new names back to the old ones."""
    state, meta = load_torch(path, kind)
    back = {new: old for old, new in renames.items()}
    meta["config"] = {back.get(k, k): v for k, v in meta["config"].items()}
    if resume_lr:
        meta["resume"]["lr"] = meta["resume"].pop("learning_rate")
    save_torch(path, kind, state, meta)
    assert set(renames) & set(load_torch(path, kind)[1]["config"])


def test_files_saved_under_old_names_load(tmp_path):
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    dqn = DQN("CartPole-v1", net_arch=(8,), learning_starts=10, batch_size=4, seed=0)
    dqn.learn(30, progress_bar=False)
    dqn.save(tmp_path / "dqn.pt")
    _as_old_file(tmp_path / "dqn.pt", "dqn", DQNConfig.RENAMED, resume_lr=True)
    back = DQN.load(tmp_path / "dqn.pt", env=gym.make("CartPole-v1"))
    assert back.config.net_arch == (8,) and back.current_learning_rate == dqn.current_learning_rate
    assert np.array_equal(back.predict(x)[0], dqn.predict(x)[0])

    pg = REINFORCE("CartPole-v1", net_arch=(8,), seed=0)
    pg.save(tmp_path / "pg.pt")
    _as_old_file(tmp_path / "pg.pt", "policy_gradient", PGConfig.RENAMED)
    back_pg = REINFORCE.load(tmp_path / "pg.pt")
    assert back_pg.config.net_arch == (8,) and np.array_equal(back_pg.predict(x)[0], pg.predict(x)[0])

    demos = collect_demonstrations("CartPole-v1", lambda o: int(o[2] > 0), n_episodes=1, seed=0)
    g = GAIL("CartPole-v1", demos, seed=0, disc_net_arch=(8,), disc_learning_rate=1e-3, n_envs=1, n_steps=32,
             batch_size=32)
    g.save(tmp_path / "gail.pt")
    g.close()
    _as_old_file(tmp_path / "gail.pt", "gail", GAILConfig.RENAMED)
    back_g = GAIL.load(tmp_path / "gail.pt")
    assert back_g.config.disc_net_arch == (8,) and back_g.config.disc_learning_rate == 1e-3
    assert np.array_equal(back_g.predict(x)[0], g.predict(x)[0])
