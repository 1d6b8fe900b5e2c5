"""Experiment protocols: presets, experts, demonstrations and scoring, apart from the algorithms they run.

* :mod:`genrl_lib.protocols.rl_zoo`: the rl-baselines3-zoo PPO settings the book and the benchmarks share.
* :mod:`genrl_lib.protocols.imitation`: the GAIL benchmark's per-seed protocol (``run_protocol``, ``PRESETS``).

The submodules are imported by name (``from genrl_lib.protocols.imitation import run_protocol``): importing this
package alone imports no algorithm.
"""
