"""The GAIL benchmark's per-seed protocol: presets, experts, demonstrations, scoring (``benchmarks/gail.py``,
the GAIL chapter and the experiments runner use it; the algorithms live in :mod:`genrl_lib.gail` and
:mod:`genrl_lib.bc`).

``run_protocol(env_id, seed, ...)``: demonstrations of :func:`expert_policy`, behaviour cloning, GAIL with
``PRESETS[env_id]``, and the true return (:func:`true_return`) at epochs of the budget.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np

from genrl_lib.bc import BehaviourCloning
from genrl_lib.checks import check_positive_int
from genrl_lib.demonstrations import Demonstrations, collect_demonstrations
from genrl_lib.evaluation import binned_mean, evaluate_policy
from genrl_lib.gail import GAIL
from genrl_lib.ppo import PPO, PPOConfig
from genrl_lib.protocols.rl_zoo import PPO_HYPERPARAMETERS
from genrl_lib.seeding import check_seed, set_seed
from genrl_lib.tabular import expected_return, greedy_from_q, value_iteration

__all__ = ["CARTPOLE_EXPERT_PATH", "PRESETS", "binned_mean", "epoch_callback", "expert_policy", "protocol_demonstrations",
           "run_protocol", "true_return"]

CARTPOLE_EXPERT_PATH = Path(__file__).parents[1] / "data" / "gail_cartpole_expert.pt"

PRESETS: dict[str, dict] = {
    # rl-zoo's CartPole PPO settings (as in benchmarks/ppo_cartpole.py); GAIL with Config's defaults.
    "CartPole-v1": {
        "ppo": dict(PPO_HYPERPARAMETERS["CartPole-v1"]),
        "gail": {},
        "total_timesteps": 300_000,
        "pretrain": False,
        "bc": dict(net_arch=(64, 64)),
        "curve_bin": 5_000,
    },
    # Taxi: a setting of ours (BC initialization, no gradient penalty, faster D, no advantage normalization,
    # 8 PPO epochs); its tuning runs are listed in the docstring of benchmarks/gail.py.
    "Taxi-v4": {
        "ppo": dict(n_envs=8, n_steps=128, batch_size=256, n_epochs=8, gamma=0.99, gae_lambda=0.95,
                    learning_rate=3e-4, lr_schedule="linear", ent_coef=0.01, normalize_advantage=False),
        "gail": dict(grad_penalty=0.0, disc_learning_rate=1e-3),
        "total_timesteps": 400_000,
        "pretrain": True,
        "bc": dict(net_arch=(64, 64)),
        "curve_bin": 5_000,
    },
}


def epoch_callback(total_timesteps: int, epochs, on_epoch: Callable) -> tuple[Callable, list]:
    """A :meth:`GAIL.learn` callback that records something at training epochs (an epoch is
    ``total_timesteps // 100`` env steps, the thesis table's convention).

    After the first GAIL iteration that reaches epoch ``e`` of ``epochs`` (increasing ints), ``on_epoch(gail)``
    is appended to the returned list; an iteration that reaches several epochs calls it once for each.

    Returns:
        ``(callback, results)``: pass ``callback`` to ``learn``; ``results`` fills with one entry per epoch reached.
    """
    step = total_timesteps // 100
    results: list = []

    def callback(gail) -> None:
        while len(results) < len(epochs) and gail.num_timesteps >= epochs[len(results)] * step:
            results.append(on_epoch(gail))

    return callback, results


def _check_env_id(env_id) -> str:
    if env_id not in PRESETS:
        raise ValueError(f"env_id must be one of {sorted(PRESETS)} (the protocol's presets), got {env_id!r}")
    return env_id


def expert_policy(env_id: str):
    """The benchmark's expert: ``"CartPole-v1"`` -> the cached PPO agent ``genrl_lib/data/gail_cartpole_expert.pt``
    (``predict``-able); ``"Taxi-v4"`` -> the optimal value-iteration policy, an ``(500,)`` int array."""
    if _check_env_id(env_id) == "Taxi-v4":
        return greedy_from_q(value_iteration(gym.make("Taxi-v4"))[1])
    return PPO.load(CARTPOLE_EXPERT_PATH)


def true_return(env_id: str, policy, n_eval_episodes: int = 20) -> float:
    """The protocol's score of a deterministic ``policy`` (``predict``-able or, on Taxi, an ``(500,)`` array).

    CartPole: mean return of ``n_eval_episodes`` deterministic episodes (reset seeds 10000, 10001, ...).
    Taxi: the exact expected return of the greedy policy (:func:`genrl_lib.tabular.expected_return`, 200-step
    limit included); ``n_eval_episodes`` is then unused.
    """
    if _check_env_id(env_id) == "Taxi-v4":
        table = policy if isinstance(policy, np.ndarray) else np.asarray(policy.predict(np.arange(500))[0])
        return float(expected_return(gym.make("Taxi-v4"), table))
    return float(evaluate_policy(policy, env_id, n_episodes=check_positive_int(n_eval_episodes, "n_eval_episodes"),
                                 seed=10_000).mean)


def protocol_demonstrations(env_id: str, seed: int, *, n_trajectories: int, every: int = 20,
                            expert=None) -> Demonstrations:
    """The protocol's demonstrations for a seed: ``n_trajectories`` episodes of ``expert`` (default
    :func:`expert_policy`; reset seeds ``1000·seed + i``), subsampled every ``every`` transitions from a random
    offset per episode (``subsample(every, seed=seed)``; ``every=1`` keeps the full trajectories)."""
    _check_env_id(env_id)
    seed = check_seed(seed)
    n_trajectories = check_positive_int(n_trajectories, "n_trajectories")
    every = check_positive_int(every, "every")
    full = collect_demonstrations(env_id, expert_policy(env_id) if expert is None else expert, n_trajectories,
                                  seed=1000 * seed)
    return full.subsample(every, seed=seed) if every > 1 else full


def run_protocol(env_id: str, seed: int, *, n_trajectories: int, every: int = 20, total_timesteps: int | None = None,
                 eval_epochs=tuple(range(10, 101, 10)), n_eval_episodes: int = 20, progress_bar: bool = False,
                 overrides: dict | None = None) -> dict:
    """One seed of the GAIL benchmark: demonstrations, BC, GAIL, and the TRUE return by epoch.

    1. ``n_trajectories`` episodes of :func:`expert_policy` (reset seeds ``1000·seed + i``), subsampled every
       ``every`` transitions from a random offset per episode (``Demonstrations.subsample(every, seed=seed)``;
       ``every=1``: full trajectories).
    2. Behaviour cloning on the same transitions (``PRESETS[env_id]["bc"]``), scored once.
    3. GAIL with ``PRESETS[env_id]`` (PPO and GAIL settings; BC initialization if ``"pretrain"``), trained for
       ``total_timesteps`` env steps (default the preset's). An *epoch* is ``total_timesteps // 100`` steps; after
       the first GAIL iteration that reaches epoch ``e`` of ``eval_epochs``, the deterministic policy is scored
       with :func:`true_return` (CartPole: ``n_eval_episodes`` episodes; Taxi: exact).

    ``overrides`` (optional) updates the preset's ``"gail"`` and ``"bc"`` settings for this run, e.g.
    ``{"gail": enc, "bc": enc}`` with ``enc = dict(obs_encoding="factored", obs_factors=TAXI_FACTORS)``, and its
    ``"ppo"`` settings (fields of :class:`genrl_lib.ppo.PPOConfig`), e.g. ``{"ppo": {"ent_coef": 0.03}}``.

    Deterministic for a seed (apart from the wall times).

    Returns:
        dict with ``epochs`` (the ``eval_epochs``, list of ``E`` ints), ``values`` (``E`` floats, true return at
        each), ``final`` (true return after training), ``env_steps`` (int), ``wall_seconds`` (GAIL's training
        time, evaluations excluded), ``agent`` (the trained :class:`GAIL`; ``close()`` it when done),
        ``demonstrations`` (the :class:`Demonstrations` used), ``n_transitions``, ``bc`` (``{"final", "wall_seconds"}``),
        ``curve`` (mean TRUE training-episode return per ``curve_bin`` env steps, ``None`` for empty bins),
        ``disc_timesteps``, ``disc_acc_expert``, ``disc_acc_policy`` (about 100 points of the discriminator's
        accuracy), ``expert`` (the expert's :func:`true_return`).

    Raises:
        ValueError: unknown ``env_id``, or a non-positive ``n_trajectories``/``every``/``total_timesteps``/
            ``n_eval_episodes``, or ``eval_epochs`` not increasing integers in ``[1, 100]``, or ``overrides`` with
            keys other than ``"gail"``, ``"bc"``, ``"ppo"`` (or PPO settings that :class:`genrl_lib.ppo.PPOConfig` lacks).
    """
    preset = dict(PRESETS[_check_env_id(env_id)])
    overrides = dict(overrides or {})
    bad = sorted(set(overrides) - {"gail", "bc", "ppo"})
    if bad:
        raise ValueError(f"overrides may only update 'gail', 'bc' and 'ppo' settings, got keys {bad}")
    bad = sorted(set(overrides.get("ppo", {})) - {f.name for f in dataclasses.fields(PPOConfig)})
    if bad:
        raise ValueError(f"overrides['ppo'] takes fields of genrl_lib.ppo.PPOConfig, got unknown keys {bad}")
    for k, v in overrides.items():
        preset[k] = {**preset[k], **v}
    seed = check_seed(seed)
    n_trajectories = check_positive_int(n_trajectories, "n_trajectories")
    every = check_positive_int(every, "every")
    n_eval_episodes = check_positive_int(n_eval_episodes, "n_eval_episodes")
    total = check_positive_int(preset["total_timesteps"] if total_timesteps is None else total_timesteps,
                               "total_timesteps")
    if total < 100:
        raise ValueError(f"total_timesteps must be at least 100 (an epoch is 1/100 of it), got {total}")
    epochs = [int(e) for e in eval_epochs]
    if (not epochs or any(isinstance(e, bool) or e != int(e) for e in eval_epochs)
            or any(not 1 <= e <= 100 for e in epochs) or any(b <= a for a, b in zip(epochs, epochs[1:]))):
        raise ValueError(f"eval_epochs must be increasing integers in [1, 100], e.g. (10, 20, ..., 100); got {eval_epochs!r}")

    expert = expert_policy(env_id)
    demos = protocol_demonstrations(env_id, seed, n_trajectories=n_trajectories, every=every, expert=expert)

    set_seed(seed)
    t0 = time.perf_counter()
    bc = BehaviourCloning(env_id, demos, seed=seed, **preset["bc"]).learn(progress_bar=False)
    bc_wall = time.perf_counter() - t0
    bc_res = {"final": round(true_return(env_id, bc, n_eval_episodes), 3), "wall_seconds": round(bc_wall, 2)}
    bc.close()

    set_seed(seed)
    t0 = time.perf_counter()
    agent = GAIL(env_id, demos, seed=seed, **{**preset["ppo"], **preset["gail"]})
    if preset["pretrain"]:
        agent.pretrain()
    eval_s = 0.0

    def score(g) -> float:   # the true return, its time kept out of the training wall time
        nonlocal eval_s
        te = time.perf_counter()
        value = round(true_return(env_id, g, n_eval_episodes), 3)
        eval_s += time.perf_counter() - te
        return value

    on_iteration, values = epoch_callback(total, epochs, score)
    agent.learn(total, progress_bar=progress_bar, callback=on_iteration)
    te = time.perf_counter()
    final = round(true_return(env_id, agent, n_eval_episodes), 3)
    eval_s += time.perf_counter() - te
    while len(values) < len(epochs):      # only if the last iteration ended exactly at the budget
        values.append(final)
    wall = time.perf_counter() - t0 - eval_s
    h = agent.history
    stride = max(1, len(h["timesteps"]) // 100)
    return {"epochs": epochs, "values": values, "final": final, "env_steps": int(agent.num_timesteps),
            "wall_seconds": round(wall, 2), "agent": agent, "demonstrations": demos, "n_transitions": len(demos),
            "bc": bc_res, "expert": round(true_return(env_id, expert, n_eval_episodes), 3),
            "curve": binned_mean(h["episode_timesteps"], h["episode_returns"], total, preset["curve_bin"]),
            "disc_timesteps": h["timesteps"][::stride],
            "disc_acc_expert": [round(x, 3) for x in h["disc_acc_expert"][::stride]],
            "disc_acc_policy": [round(x, 3) for x in h["disc_acc_policy"][::stride]]}
