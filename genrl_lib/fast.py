"""The NumPy fast path: an MLP's forward pass written out, so that acting costs microseconds instead of torch's
per-call overhead, and so that a hand-written backward pass has every layer's output.

An MLP of :func:`genrl_lib.nets.mlp` (``Linear, f, Linear, f, …, Linear``) with weights ``W_i (out_i, in_i)`` and
biases ``b_i (out_i,)``, ``i = 1..L``, maps ``x (B, in_1)`` to::

    h_0 = x
    h_i = f(h_{i−1} W_iᵀ + b_i)        i = 1..L−1   (hidden layers, activation f: tanh or ReLU)
    out = h_{L−1} W_Lᵀ + b_L                        (the output layer is linear)

:func:`mlp_forward` computes exactly this, from a list of ``(W_i, b_i)`` pairs, and returns every ``h_i``.
Who calls it:

* :class:`genrl_lib.ppo.PPO` (NumPy backend): the actor while collecting a rollout, the critic's values, and the
  forward half of its hand-written gradient step; its pairs are views of PPO's flat parameter buffer.
* :meth:`genrl_lib.policies.ActorCriticPolicy.numpy_actor` through :func:`numpy_forward`: REINFORCE and the
  actor-critic act with it.
* :class:`genrl_lib.dqn.DQN`, with torch tensors: its ε-greedy action selection and the forward half of its
  hand-written TD gradient (no autograd, no module calls).

Nothing is copied: the pairs are views of the torch parameters (:func:`linear_layers`), so an optimizer step that
updates the parameters in place is seen at the next call. Only replacing a parameter's storage (``p.data = …``)
breaks the link; take the pairs again then. The tests (``tests/test_fast.py``) check it against the torch
modules it stands in for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import torch
from torch import nn

__all__ = ["NUMPY_ACTIVATIONS", "mlp_forward", "layer_pairs", "linear_layers", "numpy_activation", "numpy_forward"]

Array = TypeVar("Array", np.ndarray, torch.Tensor)

# The hidden activations the fast path writes out in NumPy; any other activation acts through torch.
NUMPY_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh, "relu": lambda x: np.maximum(x, 0.0)}
_NUMPY_MODULES: dict[type[nn.Module], str] = {nn.Tanh: "tanh", nn.ReLU: "relu"}


def mlp_forward(layers: Sequence[tuple[Array, Array]], x: Array, activation: Callable[[Array], Array]) -> list[Array]:
    """Every layer's output ``[h_0 = x, h_1, …, h_{L−1}, out]`` of an MLP given as ``[(W_i, b_i)]``::

        h_i = f(h_{i−1} W_iᵀ + b_i) for the hidden layers,   out = h_{L−1} W_Lᵀ + b_L

    Args:
        layers: ``L >= 1`` pairs ``(W_i (out_i, in_i), b_i (out_i,))``, in order (``nn.Linear``'s layout).
        x: ``(B, in_1)`` inputs.
        activation: ``f``, applied to every layer but the last (e.g. ``NUMPY_ACTIVATIONS["tanh"]``).

    Returns:
        ``L + 1`` arrays: ``x``, then ``h_i (B, out_i)``, the last being the output ``(B, out_L)``.

    NumPy arrays compute ``h W.T + b`` (a matrix product, then the bias); torch tensors ``torch.addmm(b, h, W.t())``,
    the very call ``nn.Linear`` makes on a batch, so the result equals the module's bit for bit. The dtype is the
    inputs' (float32 weights and inputs give float32, as torch does).

    Raises:
        ValueError: ``layers`` is empty, ``x`` is not ``(B, in_1)``, or one layer's input size is not the
            previous layer's output size.
    """
    if not layers:
        raise ValueError("layers must hold at least one (weight, bias) pair")
    if x.ndim != 2 or x.shape[1] != layers[0][0].shape[1]:
        raise ValueError(f"x must be a batch (B, {layers[0][0].shape[1]}) of inputs of the first layer, got shape "
                         f"{tuple(x.shape)}; reshape one input with x[None]")
    hs, last = [x], len(layers) - 1
    try:
        for i, (w, b) in enumerate(layers):
            h = hs[-1]
            z = h @ w.T + b if isinstance(h, np.ndarray) else torch.addmm(b, h, w.t())   # h_{i−1} W_iᵀ + b_i
            hs.append(z if i == last else activation(z))
    except (ValueError, RuntimeError):
        _check_chain(layers)            # name the layer that does not fit (free when nothing fails)
        raise
    return hs


def _check_chain(layers: Sequence[tuple]) -> None:
    for i, (w, b) in enumerate(layers):
        if w.ndim != 2 or tuple(b.shape) != (w.shape[0],):
            raise ValueError(f"layer {i}: weight must be (out, in) and bias (out,), got {tuple(w.shape)} and "
                             f"{tuple(b.shape)}")
        if i and w.shape[1] != layers[i - 1][0].shape[0]:
            raise ValueError(f"layer {i} takes {w.shape[1]} inputs but layer {i - 1} gives {layers[i - 1][0].shape[0]}")


def layer_pairs(arrays: Sequence[Array]) -> list[tuple[Array, Array]]:
    """``[W_1, b_1, W_2, b_2, …]`` (the order of ``nn.Sequential.parameters()``) -> ``[(W_1, b_1), (W_2, b_2), …]``.

    Raises:
        ValueError: an odd number of arrays, or pairs that do not chain into an MLP.
    """
    if len(arrays) % 2:
        raise ValueError(f"expected weights and biases alternating, an even number of arrays, got {len(arrays)}")
    pairs = list(zip(arrays[0::2], arrays[1::2]))
    _check_chain(pairs)
    return pairs


def linear_layers(module: nn.Sequential) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``(W_i (out, in), b_i (out,))`` of every ``nn.Linear`` of ``module``, as float32 NumPy *views* of its
    parameters (no copy: in-place updates of the parameters show through)."""
    return layer_pairs([t for m in module if isinstance(m, nn.Linear)
                        for t in (m.weight.detach().numpy(), m.bias.detach().numpy())])


def numpy_activation(module: nn.Sequential) -> str | None:
    """The name of ``module``'s hidden activation if it is an MLP the fast path can run (``Linear, f, Linear, f, …,
    Linear`` with one ``f`` among tanh and ReLU, as :func:`genrl_lib.nets.mlp` builds them), else ``None``."""
    mods = list(module)
    acts = {type(m) for m in mods[1::2]}
    if (not mods or len(mods) % 2 == 0 or not all(isinstance(m, nn.Linear) for m in mods[0::2])
            or len(acts) > 1 or not acts <= set(_NUMPY_MODULES)):
        return None
    return _NUMPY_MODULES[acts.pop()] if acts else "tanh"   # (no hidden layer: the activation is never used)


def numpy_forward(module: nn.Sequential) -> Callable[[np.ndarray], np.ndarray]:
    """``module`` as a function ``(B, in) float32 -> (B, out)``: :func:`mlp_forward` on views of its weights when
    :func:`numpy_activation` accepts it, else (other activations, other layouts) the module itself under
    ``torch.no_grad()``. The views follow in-place parameter updates; take the function again if the parameters'
    storage is replaced."""
    name = numpy_activation(module)
    if name is None:
        def torch_forward(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return module(torch.from_numpy(x)).numpy()
        return torch_forward
    layers, act = linear_layers(module), NUMPY_ACTIVATIONS[name]

    def forward(x: np.ndarray) -> np.ndarray:
        return mlp_forward(layers, x, act)[-1]
    return forward
