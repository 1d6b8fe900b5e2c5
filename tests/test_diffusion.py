"""Unit tests for genrl_lib.diffusion (DDPM + classifier-free guidance): tiny models, few steps."""

import numpy as np
import pytest
import torch

from genrl_lib.diffusion import DDPM, DDPMConfig, NoiseNet, check_guidance, noise_schedule

torch.set_num_threads(1)
RNG = np.random.default_rng(0)


def tiny(dim=2, **kw):
    return DDPM(dim, DDPMConfig(**{"n_steps": 10, "hidden": (32, 32), "batch_size": 64, **kw}))


@pytest.mark.parametrize("kind", ["cosine", "linear"])
def test_noise_schedule(kind):
    beta = noise_schedule(50, kind)
    assert beta.shape == (50,) and (beta > 0).all() and (beta <= 0.999).all()
    abar = torch.cumprod(1 - beta, 0)
    assert abar[0] > 0.95 and abar[-1] < 0.05           # from almost data to almost pure noise
    with pytest.raises(ValueError, match="schedule"):
        noise_schedule(10, "quadratic")


def test_noise_net_shapes():
    net = NoiseNet(5, 3, (16,), 8, "relu")
    out = net(torch.zeros(4, 5), torch.arange(4), torch.zeros(4, 3), torch.ones(4))
    assert out.shape == (4, 5)


def test_fit_lowers_loss_and_learns_the_data():
    """Direction of learning: trained on a point mass at (3, -1), samples land there (a sign error would not)."""
    x = np.tile([[3.0, -1.0]], (256, 1)).astype(np.float32) + 0.05 * RNG.standard_normal((256, 2)).astype(np.float32)
    m = tiny(seed=1, normalize=None, hidden=(64, 64), n_steps=20)
    h = m.fit(x, steps=600, progress_bar=False)
    assert np.mean(h["loss"][-50:]) < np.mean(h["loss"][:50])
    s = m.sample(200, seed=0)
    assert s.shape == (200, 2)
    assert np.abs(s.mean(0) - [3.0, -1.0]).max() < 0.4


def test_seeded_and_save_load(tmp_path):
    x = RNG.standard_normal((100, 3)).astype(np.float32)
    a, b = tiny(3, seed=2), tiny(3, seed=2)
    a.fit(x, steps=20, progress_bar=False)
    b.fit(x, steps=20, progress_bar=False)
    assert np.array_equal(a.sample(5, seed=1), b.sample(5, seed=1))
    a.save(tmp_path / "d.pt")
    c = DDPM.load(tmp_path / "d.pt")
    assert np.array_equal(a.sample(5, seed=1), c.sample(5, seed=1))
    assert a.denoise_loss(x) == c.denoise_loss(x)


def test_classifier_free_guidance_separates_classes():
    """Labels 0 / 1 at -2 / +2: conditional samples follow their label, guidance sharpens it."""
    y = np.repeat([0, 1], 200)
    x = np.where(y[:, None] == 0, -2.0, 2.0).astype(np.float32) + 0.1 * RNG.standard_normal((400, 1)).astype(np.float32)
    m = DDPM(1, DDPMConfig(n_steps=20, hidden=(64, 64), n_classes=2, p_uncond=0.2, seed=3, batch_size=128))
    m.fit(x, labels=y, steps=800, progress_bar=False)
    lab = np.repeat([0, 1], 100)
    s = m.sample(200, labels=lab, guidance=2.0, seed=0)[:, 0]
    assert (np.sign(s) == np.where(lab == 0, -1, 1)).mean() > 0.9
    u = m.sample(200, seed=0)[:, 0]                          # unconditional: both modes
    assert 0.2 < (u > 0).mean() < 0.8


def test_known_coordinates_are_imposed():
    m = tiny(3, seed=0)
    m.fit(RNG.standard_normal((64, 3)), steps=5, progress_bar=False)
    s = m.sample(4, known=(np.array([True, False, False]), np.array([7.0, 0, 0])), seed=0)
    assert np.allclose(s[:, 0], 7.0, atol=1e-4)


def test_continuous_condition_and_chain():
    m = DDPM(2, DDPMConfig(n_steps=8, hidden=(16,), cond_dim=1))
    m.fit(RNG.standard_normal((50, 2)), cond=RNG.random((50, 1)), steps=3, progress_bar=False)
    s, chain = m.sample(3, cond=np.ones((3, 1)), guidance=3.0, return_chain=True, seed=0)
    assert s.shape == (3, 2) and chain.shape == (9, 3, 2)


def test_bad_inputs():
    with pytest.raises(ValueError, match="guidance"):
        check_guidance(-1.0)
    with pytest.raises(ValueError, match="guidance"):
        check_guidance(True)
    with pytest.raises(ValueError, match="not both"):
        DDPMConfig(n_classes=2, cond_dim=1)
    with pytest.raises(ValueError, match="time_dim"):
        DDPMConfig(time_dim=7)
    m = DDPM(1, DDPMConfig(n_steps=5, hidden=(8,), n_classes=3))
    with pytest.raises(RuntimeError, match="fit"):
        m.sample(2)
    with pytest.raises(ValueError, match="labels= or cond="):
        m.fit(np.zeros((4, 1)), steps=1, progress_bar=False)
    with pytest.raises(ValueError, match="labels must lie"):
        m.fit(np.zeros((4, 1)), labels=np.array([0, 1, 2, 3]), steps=1, progress_bar=False)
    m.fit(np.zeros((4, 1)), labels=np.array([0, 1, 2, 0]), steps=1, progress_bar=False)
    with pytest.raises(ValueError, match="guidance"):
        m.sample(2, labels=np.array([0, 1]), guidance=-0.5)
    with pytest.raises(ValueError, match="pass labels="):
        m.sample(2, cond=np.zeros((2, 1)))
    c = DDPM(1, DDPMConfig(n_steps=5, hidden=(8,), cond_dim=1))
    c.fit(np.zeros((4, 1)), cond=np.zeros((4, 1)), steps=1, progress_bar=False)
    with pytest.raises(TypeError, match="cond must be numbers"):
        c.sample(1, cond="high")
