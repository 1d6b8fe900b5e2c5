"""The building-control imitation experiments' protocol (Sinergym): periods, experts, the observation scaler,
GAIL's settings and the PPO controller trainer. The environments themselves are :mod:`genrl_lib.buildings`.

Used by the buildings chapter, ``benchmarks/gail_buildings.py`` and the experiments runner.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from genrl_lib.buildings import BuildingEnv, constant_policy, rule_based_expert, run_episode
from genrl_lib.scaling import Scaler

__all__ = ["IMITATION_PERIODS", "imitation_periods", "observation_scaler", "random_policy", "select_expert",
           "PPO_CONTROLLER_HP", "StandardizedPolicy", "expert_by_name", "GAIL_HP", "standardize_observations",
           "train_ppo_controller", "CONTROLLER_LABELS", "controller_keys", "controller_values",
           "format_result", "plot_result"]

#: Demonstration and evaluation periods of the imitation experiments: the expert is recorded on the first,
#: every controller is scored on the second (never the same days).
IMITATION_PERIODS: dict[str, tuple] = {
    "week": (((1, 1), (1, 7)), ((1, 8), (1, 14))),    # demonstrations Jan 1-7, evaluation Jan 8-14
    "month": ("january", "february"),                 # demonstrations January, evaluation February
    "year": ("january", "year"),                      # demonstrations January, evaluation the whole year
}


def imitation_periods(period: str) -> tuple:
    """``(demonstration_period, evaluation_period)`` for ``period`` in ``"week"``, ``"month"``, ``"year"``."""
    if period not in IMITATION_PERIODS:
        raise ValueError(f"period must be one of {list(IMITATION_PERIODS)}, got {period!r}")
    return IMITATION_PERIODS[period]


def observation_scaler(observations, floor: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Shift and scale that standardize raw Sinergym observations ``(N, d)``: the mean, and ``max(std, floor)``
    (``genrl_lib.scaling.Scaler("standard", floor=floor)``).

    The floor matters for features that are constant in the demonstrations (the month is always 1 in
    January): a plain standardization would divide by ~0 and turn February's month into a huge input.

    Returns:
        ``(shift, scale)``, two float32 ``(d,)`` arrays (pass them to GAIL / BC as ``obs_shift``, ``obs_scale``).
    """
    if not floor > 0:
        raise ValueError(f"floor must be positive, got {floor}")
    state = Scaler("standard", floor=floor).fit(observations, "observations").state()
    return state["shift"], state["scale"]


def random_policy(env: gym.Env, seed: int = 0):
    """A uniformly random discrete controller with its own generator (``seed``): a callable ``obs -> int``."""
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise TypeError("random_policy draws discrete actions: make the env with discrete=True")
    rng, n = np.random.default_rng(seed), int(env.action_space.n)
    return lambda obs: int(rng.integers(n))


def select_expert(env: BuildingEnv, constants=None) -> tuple[str, object, dict[str, float]]:
    """Pick the expert among Sinergym's rule-based controller and the ``n`` constant controllers, by their
    return on ``env``'s run period (use the *demonstration* period, never the evaluation one).

    In winter the rule-based controllers are constant anyway, and a different constant setpoint pair can
    beat them (e.g. the Warehouse in January), so the selection is made explicit rather than assumed.

    Args:
        env: a discrete :class:`BuildingEnv` on the demonstration period.
        constants: the constant actions to try (default: all ``n``).

    Returns:
        ``(name, policy, returns)``: ``name`` is ``"rule-based"`` or ``"constant <a>"``, ``policy`` a callable
        ``obs -> int``, ``returns`` maps every candidate's name to its return (one episode per candidate).
    """
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise TypeError("select_expert compares discrete controllers: make the env with discrete=True")
    n = int(env.action_space.n)
    constants = range(n) if constants is None else list(constants)
    bad = [a for a in constants if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not 0 <= a < n]
    if bad:
        raise ValueError(f"constants must be ints in [0, {n}), got {bad}")
    candidates = {"rule-based": rule_based_expert(env)}
    candidates.update({f"constant {a}": constant_policy(a) for a in constants})
    returns = {name: run_episode(env, pi).ret for name, pi in candidates.items()}
    best = max(returns, key=lambda name: returns[name])
    return best, candidates[best], returns


def expert_by_name(env: BuildingEnv, name: str):
    """The controller :func:`select_expert` called ``name`` (``"rule-based"`` or ``"constant <a>"``), rebuilt for
    ``env`` (e.g. to score the expert chosen on the demonstration period on the evaluation period).

    Returns:
        A callable ``obs -> int`` action.
    """
    if name == "rule-based":
        return rule_based_expert(env)
    kind, _, action = name.partition(" ")
    if kind != "constant" or not action.isdigit():
        raise ValueError(f"name must be 'rule-based' or 'constant <action>' (as select_expert returns), got {name!r}")
    return constant_policy(int(action))


#: GAIL settings for the buildings (``genrl_lib.gail.GAIL`` keywords: PPO and discriminator fields), used by
#: ``benchmarks/gail_buildings.py`` and the thesis table (:mod:`genrl_lib.experiments`): short rollouts and 5
#: discriminator steps per rollout, because a week is only 671 steps and D must learn from few rollouts.
GAIL_HP: dict = dict(n_steps=128, batch_size=64, n_epochs=4, gamma=0.99, gae_lambda=0.95, learning_rate=3e-4,
                     ent_coef=0.01, net_arch=(64, 64), disc_steps=5, disc_batch_size=128,
                     disc_learning_rate=1e-3)


# ---------------------------------------------------------------- a PPO controller on the true reward (issue 9)
#: PPO settings of :func:`train_ppo_controller` (``genrl_lib.ppo.Config`` fields). Rollouts of 512 steps
#: (about 5 simulated days at 4 steps/hour), 10 epochs of minibatches of 64, a small entropy bonus.
PPO_CONTROLLER_HP: dict = dict(n_steps=512, batch_size=64, n_epochs=10, gamma=0.99, gae_lambda=0.95,
                               learning_rate=3e-4, ent_coef=0.01, net_arch=(64, 64))


def _scaler(env: gym.Env, shift, scale) -> Scaler:
    d = int(np.prod(env.observation_space.shape or ()))
    return Scaler.from_shift_scale(shift, scale, d, ("obs_shift", "obs_scale"),
                                   "; make them with observation_scaler(observations)")


def standardize_observations(env: gym.Env, obs_shift, obs_scale) -> gym.Env:
    """``env`` seen through ``(obs - obs_shift) / obs_scale``: a ``TransformObservation`` wrapper around a
    :class:`genrl_lib.scaling.Scaler`, with an unbounded float32 Box of the same shape. Closing the wrapper
    closes ``env``."""
    scaler = _scaler(env, obs_shift, obs_scale)
    shape = env.observation_space.shape
    space = gym.spaces.Box(-np.inf, np.inf, shape, np.float32)
    return gym.wrappers.TransformObservation(
        env, lambda o: scaler.transform(np.asarray(o, np.float32).reshape(-1), "observation").reshape(shape), space)


class StandardizedPolicy:
    """A policy trained on standardized observations that acts on raw Sinergym ones.

    ``predict(obs)`` standardizes ``obs`` (one ``(d,)`` observation or a batch ``(B, d)``) with
    ``(obs - shift) / scale`` (a :class:`genrl_lib.scaling.Scaler`) and asks ``agent`` (anything with SB3's
    ``predict``).

    Attributes:
        agent: the trained learner (a :class:`genrl_lib.ppo.PPO` for :func:`train_ppo_controller`).
        scaler: the :class:`~genrl_lib.scaling.Scaler`; ``shift``, ``scale``: its float32 ``(d,)`` arrays.
    """

    def __init__(self, agent, shift, scale):
        self.agent = agent
        self.scaler = Scaler.from_shift_scale(shift, scale, names=("shift", "scale"))

    @property
    def shift(self) -> np.ndarray:
        return self.scaler.state()["shift"]

    @property
    def scale(self) -> np.ndarray:
        return self.scaler.state()["scale"]

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        """``(action, None)`` for raw observations; deterministic (the mode) by default, like an expert."""
        return self.agent.predict(self.scaler.transform(observation, "observation"), deterministic=deterministic)


def train_ppo_controller(env: BuildingEnv, obs_shift, obs_scale, total_timesteps: int, seed: int = 0,
                         progress_bar: bool = False, **hyperparameters) -> StandardizedPolicy:
    """Train a :class:`genrl_lib.ppo.PPO` controller on ``env``'s true (Sinergym) reward.

    The policy sees standardized observations ``(obs - obs_shift) / obs_scale`` (e.g. the
    :func:`observation_scaler` of the expert's demonstrations, as GAIL and BC get), through
    :func:`standardize_observations`; the env's reward and episodes are untouched. Settings:
    :data:`PPO_CONTROLLER_HP`, overridden by ``hyperparameters``.

    Args:
        env: a discrete :class:`BuildingEnv` (train on the demonstration period, not the evaluation one).
        obs_shift, obs_scale: ``(d,)`` arrays, ``d`` the observation size.
        total_timesteps: env steps (rounded up to whole rollouts of ``n_steps``).
        seed: seeds PPO (networks, sampling, minibatches, the first reset).

    Returns:
        A :class:`StandardizedPolicy` whose ``agent`` is the PPO learner (``agent.history["episode_returns"]``
        holds the true return of every training episode). The env is left open; close it yourself.
    """
    from genrl_lib.ppo import PPO

    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise TypeError("train_ppo_controller trains a discrete controller: make the env with discrete=True")
    scaler = _scaler(env, obs_shift, obs_scale)
    hp = {**PPO_CONTROLLER_HP, **hyperparameters, "seed": seed}
    agent = PPO(standardize_observations(env, scaler.shift, scaler.scale), **hp)
    agent.learn(total_timesteps, progress_bar=progress_bar)
    return StandardizedPolicy(agent, scaler.shift, scaler.scale)


# --- reading a committed benchmark result (benchmarks/gail_buildings.py): tables and bar charts -------------

#: Display names of the controllers of a buildings benchmark result, in table order.
CONTROLLER_LABELS: dict[str, str] = {"random": "random", "expert": "expert", "rule_based_eval": "rule-based",
                                     "ppo": "PPO", "gail": "GAIL", "bc": "BC"}


def _check_result(result) -> dict:
    if not isinstance(result, dict) or not isinstance(result.get("buildings"), dict) or not result["buildings"]:
        raise ValueError("result must be a buildings benchmark result (the dict in genrl_lib/data/buildings_*.json, "
                         "with a non-empty 'buildings' mapping); load it with genrl_lib.io.load_json")
    return result["buildings"]


def controller_keys(res: dict) -> list[str]:
    """The controllers one building's result holds, in table order.

    Args:
        res: ``result["buildings"][name]`` of a buildings benchmark result.

    Returns:
        e.g. ``["random", "expert", "rule_based_eval", "ppo", "gail", "bc"]``: the rule-based controller only
        where it is not the expert, PPO only where the run trained one.
    """
    whos = ["random", "expert"] + (["rule_based_eval"] if res["expert_name"] != "rule-based" else [])
    return whos + (["ppo"] if "ppo" in res["summary"] else []) + ["gail", "bc"]


def controller_values(res: dict, who: str, key: str) -> np.ndarray:
    """``key`` (``"return"``, ``"energy_kwh"``, ``"comfort_violation_hours"``) of controller ``who`` on the
    evaluation period of one building's result: shape ``(n_seeds,)``, or ``(1,)`` for the deterministic
    expert and rule-based controller."""
    if who in ("expert", "rule_based_eval"):
        return np.array([res[who][key]], dtype=float)
    if who not in res["summary"]:
        raise KeyError(f"controller {who!r} is not in this result; it has {controller_keys(res)}")
    return np.array([r[who][key] for r in res["seeds"].values()], dtype=float)


def format_result(result: dict) -> str:
    """A buildings benchmark result as a text table: per building and controller, the return, the HVAC energy
    and the hours outside the comfort band (mean ± std over seeds), and the return relative to the expert's."""
    buildings = _check_result(result)

    def pm(v: np.ndarray, d: int) -> str:
        return f"{v.mean():.{d}f}" + (f" ± {v.std():.{d}f}" if len(v) > 1 else "")

    out = [f"{result['command']} | demonstrations {result['demonstration_period']} | evaluation "
           f"{result['evaluation_period']} | wall {result['wall_s']:.0f} s"]
    for b, res in buildings.items():
        out += ["", f"{b} (expert: {res['expert_name']})",
                f"{'controller':11s} {'return':>18s} {'energy kWh':>14s} {'violation h':>14s} {'return/expert':>14s}"]
        for who in controller_keys(res):
            ret = controller_values(res, who, "return")
            out.append(f"{CONTROLLER_LABELS[who]:11s} {pm(ret, 1):>18s} "
                       f"{pm(controller_values(res, who, 'energy_kwh'), 0):>14s} "
                       f"{pm(controller_values(res, who, 'comfort_violation_hours'), 1):>14s} "
                       f"{ret.mean() / res['expert']['return']:14.3f}")
    return "\n".join(out)


def plot_result(result: dict, title: str):
    """Three bar panels per building and controller (mean over seeds, std as error bars): the return relative
    to the expert's, the HVAC energy (kWh) and the hours outside the comfort band. Returns the figure."""
    import matplotlib.pyplot as plt

    buildings = _check_result(result)
    whos = [w for w in CONTROLLER_LABELS
            if w != "rule_based_eval" and all(w in controller_keys(res) for res in buildings.values())]
    fig, axes = plt.subplots(3, 1, figsize=(8, 8.5))
    panels = (("return", "return / expert's (1 = expert, higher = worse)"), ("energy_kwh", "HVAC energy (kWh)"),
              ("comfort_violation_hours", "hours outside the comfort band (h)"))
    width = 0.8 / len(whos)
    for ax, (key, label) in zip(axes, panels):
        for j, who in enumerate(whos):
            v = [controller_values(res, who, key) / (res["expert"]["return"] if key == "return" else 1)
                 for res in buildings.values()]
            x = np.arange(len(buildings)) + (j - (len(whos) - 1) / 2) * width
            ax.bar(x, [a.mean() for a in v], width, yerr=[a.std() for a in v], label=CONTROLLER_LABELS[who])
        ax.set_xticks(range(len(buildings)), list(buildings))
        ax.set_ylabel(label.split(" (")[0] if key == "return" else label, fontsize=8)
        ax.set_title(label, fontsize=9)
    axes[-1].set_xlabel("building")
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
