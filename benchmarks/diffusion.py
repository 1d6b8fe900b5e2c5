#!/usr/bin/env python
"""The diffusion chapter's figures over more seeds than the chapter can afford: DDPM on the ring, guidance on digits.

    OMP_NUM_THREADS=1 python benchmarks/diffusion.py --seeds 10 --out _build/benchmarks/diffusion

Per seed: (1) the chapter's ring DDPM (8 Gaussians, radius 2, σ = 0.1, the GAN section's data and metric;
``DDPMConfig()`` defaults, 2,500 steps): modes covered and high-quality fraction of 2,000 samples, beside the GAN's
committed figures (``genrl_lib/data/generative_ring.json``); (2) the chapter's class-conditional digits DDPM
(classifier-free guidance): for guidance weights 0, 1, 2, 4, the accuracy of the chapter's digit classifier on
500 samples (50 per class; "quality") and the mean pairwise distance within a class ("diversity").
Goals (issue 20): 8/8 modes on every seed and a high-quality fraction at least the GAN's. There is no
stable-baselines3 peer for generative models. Tuning was done on seeds 100+.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

from _cli import parse, positive_int  # standard library only: benchmarks/_cli.py


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=positive_int, default=10)
    p.add_argument("--digit-seeds", type=positive_int, default=5)
    p.add_argument("--out", type=Path, default=Path("_build/benchmarks/diffusion"))
    return parse(p, argv)


if __name__ == "__main__":
    parse_args()

import numpy as np
import torch

import genrl_lib
from genrl_lib.datasets import load_digits_split, ring_centers, ring_of_gaussians
from genrl_lib.diffusion import DDPM, DDPMConfig
from genrl_lib.generative import mode_stats
from genrl_lib.io import save_json
from genrl_lib.numerics import describe as describe_numerics

RING_STD, RING_STEPS = 0.1, 2500
DIGITS_CFG = dict(n_classes=10, p_uncond=0.2, normalize="minmax", clip=1.0, hidden=(256, 256, 256), batch_size=128)
DIGITS_STEPS, GUIDANCE = 3000, (0.0, 1.0, 2.0, 4.0)


def within_class_distance(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean pairwise Euclidean distance between samples of the same class, averaged over classes."""
    return float(np.mean([np.linalg.norm(x[labels == c][:, None] - x[labels == c][None], axis=2).mean()
                          for c in np.unique(labels)]))


def ring_run(seed: int, X: np.ndarray) -> dict:
    t0 = time.perf_counter()
    model = DDPM(2, DDPMConfig(seed=seed))
    model.fit(X, steps=RING_STEPS, progress_bar=False)
    secs = time.perf_counter() - t0
    st = mode_stats(model.sample(2000, seed=123), ring_centers(8, 2.0), RING_STD)
    return {"seed": seed, "modes_covered": st.covered, "high_quality": st.high_quality, "counts": st.counts.tolist(),
            "train_seconds": secs}


def digits_run(seed: int, digits, clf) -> dict:
    t0 = time.perf_counter()
    model = DDPM(64, DDPMConfig(seed=seed, **DIGITS_CFG))
    model.fit(digits.x_train, labels=digits.y_train, steps=DIGITS_STEPS, progress_bar=False)
    secs = time.perf_counter() - t0
    labels = np.repeat(np.arange(10), 50)
    rows = []
    for w in GUIDANCE:
        x = model.sample(500, labels=labels, guidance=w, seed=1)
        rows.append({"guidance": w, "accuracy": float((clf.predict(x) == labels).mean()),
                     "diversity": within_class_distance(x, labels)})
    return {"seed": seed, "train_seconds": secs, "by_guidance": rows}


def main(argv=None) -> None:
    from importlib.resources import files

    from sklearn.linear_model import LogisticRegression

    from genrl_lib.io import load_json

    args = parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    X, _ = ring_of_gaussians(5000, n_modes=8, radius=2.0, std=RING_STD, seed=0)
    ring = []
    print(f"{'seed':>4} {'modes':>5} {'HQ %':>6} {'s':>6}")
    for seed in range(args.seeds):
        r = ring_run(seed, X)
        ring.append(r)
        print(f"{seed:>4} {r['modes_covered']:>5} {100 * r['high_quality']:>6.1f} {r['train_seconds']:>6.1f}", flush=True)
    digits = load_digits_split(test_size=0.2, seed=0)
    clf = LogisticRegression(max_iter=2000).fit(digits.x_train, digits.y_train)
    dig = []
    for seed in range(args.digit_seeds):
        d = digits_run(seed, digits, clf)
        dig.append(d)
        print(f"digits seed {seed}: " + ", ".join(f"w={g['guidance']:g}: acc {g['accuracy']:.2f}, div "
                                                  f"{g['diversity']:.2f}" for g in d["by_guidance"]), flush=True)
    gan = load_json(files("genrl_lib") / "data" / "generative_ring.json")["summary"]
    hq = np.array([r["high_quality"] for r in ring])
    cov = np.array([r["modes_covered"] for r in ring])
    acc = np.array([[g["accuracy"] for g in d["by_guidance"]] for d in dig])
    div = np.array([[g["diversity"] for g in d["by_guidance"]] for d in dig])
    summary = {"modes_min": int(cov.min()), "seeds_all_8_modes": int((cov == 8).sum()), "hq_mean": float(hq.mean()),
               "hq_std": float(hq.std()), "hq_min": float(hq.min()), "gan_hq_mean": gan["hq_mean"],
               "gan_hq_std": gan["hq_std"], "hq_mean_at_least_gan": bool(hq.mean() >= gan["hq_mean"]),
               "guidance": list(GUIDANCE), "accuracy_mean": acc.mean(0).tolist(), "accuracy_std": acc.std(0).tolist(),
               "diversity_mean": div.mean(0).tolist(), "diversity_std": div.std(0).tolist(),
               "real_test_diversity": within_class_distance(digits.x_test, digits.y_test),
               "classifier_test_accuracy": float(clf.score(digits.x_test, digits.y_test))}
    print(f"ring: {summary['seeds_all_8_modes']}/{len(ring)} seeds with 8/8 modes, HQ {100 * hq.mean():.1f} ± "
          f"{100 * hq.std():.1f}% (min {100 * hq.min():.1f}%), GAN {100 * gan['hq_mean']:.1f} ± {100 * gan['hq_std']:.1f}%")
    save_json(args.out / "result.json", {
        "command": " ".join([Path(sys.executable).name, *sys.argv]), "summary": summary, "ring": ring, "digits": dig,
        "config": {"ring_steps": RING_STEPS, "ring": DDPMConfig().__dict__, "digits_steps": DIGITS_STEPS,
                   "digits": DIGITS_CFG},
        "peer": None, "peer_note": "no stable-baselines3 counterpart for generative models",
        "numeric_env": describe_numerics(), "versions": {"genrl_lib": genrl_lib.__version__, "torch": torch.__version__,
                                                         "numpy": np.__version__, "python": platform.python_version()}})


if __name__ == "__main__":
    main()
