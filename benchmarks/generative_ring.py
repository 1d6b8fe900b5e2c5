#!/usr/bin/env python
"""The generative-models chapter's figures over more seeds than the chapter can afford.

    OMP_NUM_THREADS=1 python benchmarks/generative_ring.py --seeds 10 --out _build/benchmarks/generative_ring

Per seed: (1) the chapter's ring GAN (8 Gaussians, radius 2, σ = 0.1; ``GANConfig(latent_dim=2,
batch_size=256, ema=0.99)``, 3,000 steps): modes covered and high-quality fraction of 2,000 samples;
(2) the chapter's denoising autoencoder at 25% corruption: held-out MSE reduction versus the noisy input;
(3) the deliberately collapsing GAN (``lr_d=1e-5``, 800 steps): modes covered. Goals (issue 6):
>= 7/8 modes and >= 80% high-quality on every seed; >= 50% MSE reduction.
There is no stable-baselines3 peer for generative models, so no peer column. Writes ``DIR/result.json``
and ``DIR/ring_gan_seed<k>.pt`` (loadable with ``genrl_lib.generative.GAN.load``).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

from _cli import parse, positive_int  # standard library only: benchmarks/_cli.py


def parse_args(argv=None) -> argparse.Namespace:
    """The command line, checked (usage error, exit status 2) before torch and genrl_lib are imported."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=positive_int, default=10)
    p.add_argument("--out", type=Path, default=Path("_build/benchmarks/generative_ring"))
    return parse(p, argv)


if __name__ == "__main__":
    parse_args()   # a bad argument stops here, in a fraction of a second, before the heavy imports below

import numpy as np
import torch

import genrl_lib
from genrl_lib.datasets import load_digits_split, ring_centers, ring_of_gaussians
from genrl_lib.generative import GAN, AEConfig, Autoencoder, GANConfig, corrupt, mode_stats, reconstruction_error
from genrl_lib.io import save_json
from genrl_lib.numerics import describe as describe_numerics

RING_STD, RING_CFG, RING_STEPS = 0.1, dict(latent_dim=2, batch_size=256, ema=0.99), 3000


def ring_run(seed: int, X: np.ndarray, out: Path) -> dict:
    t0 = time.perf_counter()
    gan = GAN(2, GANConfig(seed=seed, **RING_CFG))
    gan.fit(X, steps=RING_STEPS, progress_bar=False)
    secs = time.perf_counter() - t0
    st = mode_stats(gan.sample(2000, seed=123), ring_centers(8, 2.0), RING_STD)
    gan.save(out / f"ring_gan_seed{seed}.pt")
    collapsed = GAN(2, GANConfig(seed=seed, lr_d=1e-5, **RING_CFG))
    collapsed.fit(X, steps=800, progress_bar=False)
    cst = mode_stats(collapsed.sample(2000, seed=123), ring_centers(8, 2.0), RING_STD)
    return {"seed": seed, "modes_covered": st.covered, "high_quality": st.high_quality,
            "counts": st.counts.tolist(), "train_seconds": secs, "collapsed_modes_covered": cst.covered}


def dae_run(seed: int, digits) -> dict:
    t0 = time.perf_counter()
    dae = Autoencoder(64, AEConfig(latent_dim=32, hidden=(256,), noise=0.25, seed=seed))
    dae.fit(digits.x_train, epochs=60, progress_bar=False)
    noisy = corrupt(digits.x_test, 0.25, rng=1000 + seed)
    a, b = reconstruction_error(noisy, digits.x_test), reconstruction_error(dae.reconstruct(noisy), digits.x_test)
    return {"seed": seed, "mse_noisy": a, "mse_denoised": b, "reduction": 1 - b / a,
            "train_seconds": time.perf_counter() - t0}


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    X, _ = ring_of_gaussians(5000, n_modes=8, radius=2.0, std=RING_STD, seed=0)
    digits = load_digits_split(test_size=0.2, seed=0)
    rows = []
    print(f"{'seed':>4} {'modes':>5} {'HQ %':>6} {'GAN s':>6} {'collapsed modes':>15} {'DAE reduction %':>16}")
    for seed in range(args.seeds):
        r, d = ring_run(seed, X, args.out), dae_run(seed, digits)
        rows.append({"ring": r, "dae": d})
        print(f"{seed:>4} {r['modes_covered']:>5} {100 * r['high_quality']:>6.1f} {r['train_seconds']:>6.1f} "
              f"{r['collapsed_modes_covered']:>15} {100 * d['reduction']:>16.1f}", flush=True)
    hq = np.array([r["ring"]["high_quality"] for r in rows])
    cov = np.array([r["ring"]["modes_covered"] for r in rows])
    red = np.array([r["dae"]["reduction"] for r in rows])
    summary = {"modes_min": int(cov.min()), "hq_mean": float(hq.mean()), "hq_std": float(hq.std()),
               "hq_min": float(hq.min()), "dae_reduction_mean": float(red.mean()),
               "dae_reduction_std": float(red.std()), "dae_reduction_min": float(red.min()),
               "seeds_meeting_ring_goal": int(((cov >= 7) & (hq >= 0.8)).sum()),
               "collapsed_modes_max": int(max(r["ring"]["collapsed_modes_covered"] for r in rows))}
    print(f"ring: modes >= {summary['modes_min']}, HQ {100 * hq.mean():.1f} ± {100 * hq.std():.1f}% "
          f"(min {100 * hq.min():.1f}%), goal met on {summary['seeds_meeting_ring_goal']}/{len(rows)} seeds; "
          f"DAE 25%: {100 * red.mean():.1f} ± {100 * red.std():.1f}% (min {100 * red.min():.1f}%)")
    save_json(args.out / "result.json", {
        "command": " ".join([Path(sys.executable).name, *sys.argv]), "summary": summary, "per_seed": rows,
        "peer": None, "peer_note": "no stable-baselines3 counterpart for generative models",
        "numeric_env": describe_numerics(), "versions": {"genrl_lib": genrl_lib.__version__, "torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()}})


if __name__ == "__main__":
    main()
