"""Unit tests for genrl_lib.generative and genrl_lib.datasets (fast: tiny models, few steps)."""

import numpy as np
import pytest
import torch

from genrl_lib.datasets import load_digits_split, ring_centers, ring_of_gaussians, two_moons
from genrl_lib.generative import (
    GAN,
    VAE,
    AEConfig,
    Autoencoder,
    GANConfig,
    VAEConfig,
    corrupt,
    gan_discriminator_loss,
    gan_generator_loss,
    high_quality_fraction,
    mode_coverage,
    mode_stats,
    plot_image_rows,
    reconstruction_error,
    vae_loss_terms,
)
from genrl_lib.io import save_arrays
from genrl_lib.scaling import Scaler

torch.set_num_threads(1)
RNG = np.random.default_rng(0)
DATA8 = RNG.random((40, 8)).astype(np.float32)


def tiny_gan(dim=8, **kw):
    return GAN(dim, GANConfig(latent_dim=3, g_hidden=(16,), d_hidden=(16,), batch_size=16, **kw))


# ---------------------------------------------------------------- datasets
def test_ring_and_moons():
    X, y = ring_of_gaussians(400, std=0.05, seed=1)
    C = ring_centers(8, 2.0)
    assert X.shape == (400, 2) and X.dtype == np.float32 and y.shape == (400,)
    assert np.allclose(np.linalg.norm(C, axis=1), 2.0)
    assert np.abs(X - C[y]).max() < 0.05 * 6                       # each point sits at its own mode
    assert np.array_equal(ring_of_gaussians(50, seed=3)[0], ring_of_gaussians(50, seed=3)[0])
    Xm, ym = two_moons(100, seed=0)
    assert Xm.shape == (100, 2) and set(ym) == {0, 1}
    with pytest.raises(ValueError, match="std"):
        ring_of_gaussians(10, std=0)


def test_digits_split():
    d = load_digits_split(test_size=0.25, seed=0)
    assert d.x_train.shape[1] == 64 and len(d.x_train) + len(d.x_test) == 1797
    assert 0 <= d.x_train.min() and d.x_train.max() <= 1
    assert set(d.y_test) == set(range(10))
    with pytest.raises(ValueError, match="test_size"):
        load_digits_split(test_size=1.5)


# ---------------------------------------------------------------- normalizer, corrupt, metrics
@pytest.mark.parametrize("kind", [None, "standard", "minmax"])
def test_normalizer_round_trip(kind):
    x = RNG.normal(5, 3, (30, 6)).astype(np.float32)
    x[:, 2] = 7.0                                                  # a constant feature
    n = Scaler(kind).fit(x)
    y = n.transform(x)
    assert np.allclose(n.inverse_transform(y), x, atol=1e-4)
    if kind == "standard":
        assert np.allclose(y[:, [0, 1, 3]].std(0), 1, atol=1e-4)
    if kind == "minmax":
        assert y.min() >= -1 - 1e-6 and y.max() <= 1 + 1e-6
    with pytest.raises(ValueError, match="normalize"):
        Scaler("zscore")


def test_corrupt():
    x = np.zeros((200, 50), dtype=np.float32)
    noisy = corrupt(x, 0.25, rng=0)
    assert noisy.shape == x.shape and 0.2 < (noisy != 0).mean() < 0.3
    assert np.array_equal(corrupt(x, 0.25, rng=0), noisy)          # seeded
    assert np.array_equal(corrupt(x, 0.0, rng=0), x)
    with pytest.raises(ValueError, match="fraction"):
        corrupt(x, 1.5)


def test_mode_stats_counts_by_hand():
    C = ring_centers(4, 1.0)                                       # (1,0), (0,1), (-1,0), (0,-1)
    samples = np.array([[1.0, 0.0]] * 5 + [[0.0, 1.02]] * 5 + [[0.5, 0.5]] * 10)  # last 10 are far from every mode
    st = mode_stats(samples, C, std=0.01, min_fraction=0.1)          # HQ: distance <= 0.03
    assert st.counts.tolist() == [5, 5, 0, 0] and st.covered == 2 and st.high_quality == pytest.approx(0.5)
    assert mode_coverage(samples, C, 0.01, min_fraction=0.3) == 0    # 5 < 0.3 * 20
    assert high_quality_fraction(samples, C, 0.01) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="samples"):
        mode_stats(np.ones((3, 3)), C, 0.1)


def test_reconstruction_error():
    a, b = np.zeros((2, 4)), np.array([[1, 1, 1, 1], [0, 0, 0, 2.0]])
    assert reconstruction_error(b, a) == pytest.approx((1 + 1) / 2)
    assert reconstruction_error(b, a, per_example=True).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="rows"):
        reconstruction_error(b[:1], a)


# ---------------------------------------------------------------- models
def test_autoencoder_fit_shapes_and_determinism():
    cfg = AEConfig(latent_dim=2, hidden=(16,), batch_size=8, noise=0.25)
    h1 = Autoencoder(8, cfg).fit(DATA8, epochs=3, progress_bar=False)
    ae = Autoencoder(8, cfg)
    h2 = ae.fit(DATA8, epochs=3, progress_bar=False)
    assert h1 == h2 and len(h1["loss"]) == 3                       # same seed, same numbers
    z = ae.encode(DATA8)
    assert z.shape == (40, 2) and ae.decode(z).shape == (40, 8) and ae.reconstruct(DATA8[0]).shape == (1, 8)
    assert 0 <= ae.decode(z).min() and ae.decode(z).max() <= 1     # sigmoid output


def test_autoencoder_learns():
    x = np.repeat(np.eye(4, dtype=np.float32), 10, axis=0)
    ae = Autoencoder(4, AEConfig(latent_dim=2, hidden=(16,), batch_size=8, lr=1e-2))
    ae.normalizer.fit(x)                                           # identity scaling (normalize=None)
    before = reconstruction_error(ae.reconstruct(x), x)
    h = ae.fit(x, epochs=60, progress_bar=False)
    assert h["loss"][-1] < 0.5 * h["loss"][0] and reconstruction_error(ae.reconstruct(x), x) < before


def test_vae_elbo_terms_and_sampling():
    vae = VAE(8, VAEConfig(latent_dim=2, hidden=(16,), batch_size=8))
    h = vae.fit(DATA8, epochs=4, progress_bar=False)
    assert set(h) == {"elbo", "recon", "kl"}
    assert np.allclose(h["elbo"], -(np.array(h["recon"]) + np.array(h["kl"])))
    assert min(h["kl"]) >= 0
    assert vae.sample(5, seed=0).shape == (5, 8) and np.array_equal(vae.sample(5, seed=0), vae.sample(5, seed=0))
    assert vae.encode(DATA8).shape == (40, 2) and np.isfinite(vae.elbo(DATA8))
    with pytest.raises(ValueError, match="\\[0, 1\\]"):
        VAE(8, VAEConfig(hidden=(8,))).fit(DATA8 * 3, epochs=1, progress_bar=False)


@pytest.mark.parametrize("loss", ["vanilla", "non_saturating", "wasserstein"])
def test_gan_losses_run(loss):
    gan = tiny_gan(loss=loss, d_steps=2)
    h = gan.fit(DATA8, steps=5, progress_bar=False)
    assert all(len(v) == 5 for v in h.values()) and np.isfinite(h["d_loss"]).all()
    assert gan.sample(7, seed=1).shape == (7, 8) and gan.discriminate(DATA8).shape == (40,)
    if loss != "wasserstein":
        assert 0 <= gan.discriminate(DATA8).min() and gan.discriminate(DATA8).max() <= 1


def test_gan_generator_losses_match_the_equations():
    gan = tiny_gan()
    gan.fit(DATA8, steps=1, progress_bar=False)
    fake = torch.randn(6, 8)
    with torch.no_grad():
        D = torch.sigmoid(gan.discriminator(fake).squeeze(1))
        gan.config.loss = "vanilla"
        assert gan._g_loss(fake).item() == pytest.approx(torch.log(1 - D).mean().item(), abs=1e-5)
        gan.config.loss = "non_saturating"
        assert gan._g_loss(fake).item() == pytest.approx(-torch.log(D).mean().item(), abs=1e-5)


def test_vae_loss_terms_match_the_closed_forms():
    x = torch.tensor([[0.0, 1.0, 0.25], [1.0, 1.0, 0.0]], dtype=torch.float64)
    out = torch.tensor([[0.5, -1.0, 2.0], [0.0, 3.0, -2.0]], dtype=torch.float64)
    mu = torch.tensor([[0.0, 0.0], [1.0, -2.0]], dtype=torch.float64)
    logvar = torch.tensor([[0.0, 0.0], [np.log(4.0), -1.0]], dtype=torch.float64)
    rec, kl = vae_loss_terms(x, out, mu, logvar)
    assert rec.shape == kl.shape == (2,)
    p = torch.sigmoid(out)
    assert torch.allclose(rec, -(x * p.log() + (1 - x) * (1 - p).log()).sum(1))
    assert kl[0].item() == 0.0                                    # q(z|x) = N(0, I)
    assert kl[1].item() == pytest.approx(0.5 * (1 + 4 - 1 - np.log(4.0) + 4 + np.exp(-1.0) - 1 + 1.0))
    rec_g, _ = vae_loss_terms(x, out, mu, logvar, likelihood="gaussian")
    assert torch.allclose(rec_g, 0.5 * ((out - x) ** 2).sum(1))
    with pytest.raises(ValueError, match="likelihood must be one of"):
        vae_loss_terms(x, out, mu, logvar, likelihood="poisson")


def test_vae_descends_the_loss_terms():
    vae = VAE(8, VAEConfig(latent_dim=2, hidden=(16,), normalize=None, seed=0))
    vae.fit(DATA8, epochs=1, progress_bar=False)
    x = torch.from_numpy(DATA8[:5])
    eps = torch.zeros(5, 2)
    with torch.no_grad():
        rec, kl = vae._terms(x, eps)
        mu, logvar = vae.encoder(x).chunk(2, dim=1)
        rec2, kl2 = vae_loss_terms(x, vae.decoder(mu), mu, logvar)
    assert torch.equal(rec, rec2) and torch.equal(kl, kl2)


def test_gan_loss_functions_match_the_equations():
    real, fake = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64), torch.tensor([-3.0, 0.0], dtype=torch.float64)
    d_r, d_f = torch.sigmoid(real), torch.sigmoid(fake)
    assert gan_discriminator_loss(real, fake).item() == pytest.approx(
        -(d_r.log().mean() + (1 - d_f).log().mean()).item())
    assert gan_discriminator_loss(torch.zeros(4), torch.zeros(4)).item() == pytest.approx(2 * np.log(2))
    assert gan_generator_loss(fake, "vanilla").item() == pytest.approx((1 - d_f).log().mean().item())
    assert gan_generator_loss(fake, "non_saturating").item() == pytest.approx(-d_f.log().mean().item())
    assert gan_generator_loss(fake, "wasserstein").item() == pytest.approx(1.5)
    with pytest.raises(ValueError, match="loss must be one of"):
        gan_generator_loss(fake, "hinge")


def test_the_vanilla_generator_gradient_saturates():
    z = torch.tensor([-8.0, 0.0], dtype=torch.float64, requires_grad=True)
    (g_van,) = torch.autograd.grad(gan_generator_loss(z, "vanilla"), z)
    (g_ns,) = torch.autograd.grad(gan_generator_loss(z, "non_saturating"), z)
    d = torch.sigmoid(z).detach()
    assert torch.allclose(g_van, -d / 2) and torch.allclose(g_ns, -(1 - d) / 2)
    assert g_ns[0] / g_van[0] > 1000                              # D wins: only the non-saturating loss pulls


def test_gan_fits_a_single_gaussian():
    x = (np.random.default_rng(0).normal(3.0, 0.5, (500, 1))).astype(np.float32)
    gan = GAN(1, GANConfig(latent_dim=2, g_hidden=(32,), d_hidden=(32,), batch_size=64))
    gan.fit(x, steps=300, progress_bar=False)
    s = gan.sample(2000, seed=0)
    assert abs(s.mean() - 3.0) < 0.3 and 0.2 < s.std() < 1.0


def test_gan_deterministic_and_continues():
    a, b = tiny_gan(ema=0.9), tiny_gan(ema=0.9)
    ha = a.fit(DATA8, steps=6, progress_bar=False)
    hb = b.fit(DATA8, steps=3, progress_bar=False)
    hb2 = b.fit(DATA8, steps=3, progress_bar=False)                   # continuing gives the same run
    assert ha["g_loss"] == hb["g_loss"] + hb2["g_loss"] and b.steps_done == 6
    assert np.array_equal(a.sample(4, seed=0), b.sample(4, seed=0))


def test_gan_on_flattened_q_tables():
    """HQL's use: a handful of 500 x 6 Q-tables flattened to 3,000-vectors, on very different scales."""
    q = np.random.default_rng(0).normal(0, 1, (5, 3000)).astype(np.float32) * 20 - 50
    gan = GAN(3000, GANConfig(latent_dim=8, g_hidden=(32,), d_hidden=(32,), batch_size=16, normalize="standard"))
    h = gan.fit(q, steps=3, progress_bar=False)
    assert len(h["g_loss"]) == 3
    s = gan.sample(2, seed=0)
    assert s.shape == (2, 3000) and s.reshape(2, 500, 6).shape == (2, 500, 6)
    n = gan.normalizer
    assert np.allclose(n.inverse_transform(n.transform(q)), q, atol=1e-3)
    assert abs(float(n.shift.mean()) - float(q.mean())) < 1.0       # the generator's outputs are mapped back to Q scale
    assert gan.discriminate(q).shape == (5,)


# ---------------------------------------------------------------- save / load
def test_save_load_round_trip(tmp_path):
    gan = tiny_gan(ema=0.5, normalize="minmax", output="tanh")
    gan.fit(DATA8, steps=4, progress_bar=False)
    gan.save(tmp_path / "g.pt")
    back = GAN.load(tmp_path / "g.pt")
    assert back.config == gan.config and back.steps_done == 4
    assert np.array_equal(back.sample(5, seed=2), gan.sample(5, seed=2))
    assert np.array_equal(back.fit(DATA8, steps=2, progress_bar=False)["g_loss"],
                          gan.fit(DATA8, steps=2, progress_bar=False)["g_loss"])   # optimizer and RNG restored
    vae = VAE(8, VAEConfig(hidden=(8,)))
    vae.fit(DATA8, epochs=1, progress_bar=False)
    vae.save(tmp_path / "v.pt")
    assert np.array_equal(VAE.load(tmp_path / "v.pt").decode(np.zeros((1, 2))), vae.decode(np.zeros((1, 2))))
    ae = Autoencoder(8, AEConfig(hidden=(8,)))
    ae.fit(DATA8, epochs=1, progress_bar=False)
    ae.save(tmp_path / "a.pt")
    assert np.array_equal(Autoencoder.load(tmp_path / "a.pt").encode(DATA8), ae.encode(DATA8))


def test_load_foreign_or_wrong_kind(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="corrupt or not"):
        GAN.load(tmp_path / "junk.pt")
    save_arrays(tmp_path / "arr.npz", "q_table", {"q": np.zeros(3)})
    with pytest.raises(ValueError):
        GAN.load(tmp_path / "arr.npz")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="no genrl header"):
        GAN.load(tmp_path / "other.pt")
    vae = VAE(8, VAEConfig(hidden=(8,)))
    vae.fit(DATA8, epochs=1, progress_bar=False)
    vae.save(tmp_path / "v.pt")
    with pytest.raises(ValueError, match="'vae', not a 'gan'"):
        GAN.load(tmp_path / "v.pt")
    with pytest.raises(FileNotFoundError):
        GAN.load(tmp_path / "missing.pt")


# ---------------------------------------------------------------- bad input
def test_bad_input_errors():
    bad = DATA8.copy()
    bad[3, 2] = np.nan
    for model in (tiny_gan(), Autoencoder(8, AEConfig(hidden=(8,))), VAE(8, VAEConfig(hidden=(8,)))):
        with pytest.raises(ValueError, match="NaN"):
            model.fit(bad, 1, progress_bar=False)
        with pytest.raises(ValueError, match="dim=8"):
            model.fit(np.zeros((4, 5)), 1, progress_bar=False)
    gan = tiny_gan()
    with pytest.raises(RuntimeError, match="fit"):
        gan.sample(3)
    gan.fit(DATA8, steps=1, progress_bar=False)
    with pytest.raises(ValueError, match="latent_dim=3"):
        gan.decode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="n must be a positive int"):
        gan.sample(0)
    with pytest.raises(ValueError, match="dim=8"):
        gan.discriminate(np.zeros((2, 7)))
    with pytest.raises(ValueError, match="2-D"):
        gan.fit(np.zeros((2, 2, 2)), 1, progress_bar=False)
    vae = VAE(8, VAEConfig(hidden=(8,)))
    vae.fit(DATA8, 1, progress_bar=False)
    with pytest.raises(ValueError, match="latent_dim=2"):
        vae.decode(np.zeros((1, 3)))
    for bad_cfg in (lambda: GANConfig(latent_dim=0), lambda: AEConfig(latent_dim=-1), lambda: VAEConfig(latent_dim=0)):
        with pytest.raises(ValueError, match="latent_dim"):
            bad_cfg()
    with pytest.raises(ValueError, match="loss"):
        GANConfig(loss="hinge")
    with pytest.raises(ValueError, match="d_steps"):
        GANConfig(d_steps=0)
    with pytest.raises(ValueError, match="dim"):
        GAN(0)
    with pytest.raises(TypeError, match="GANConfig"):
        GAN(4, AEConfig())


def test_plot_image_rows():
    import matplotlib
    matplotlib.use("Agg")
    fig = plot_image_rows({"a": DATA8[:, :4].repeat(16, 1)[:3], "b": np.zeros((2, 64))}, title="t")
    assert len(fig.axes) == 6
    with pytest.raises(ValueError, match="empty"):
        plot_image_rows({})


def test_conv_vae_shapes_learning_and_save_load(tmp_path):
    from genrl_lib.generative import ConvVAE, ConvVAEConfig

    rng = np.random.default_rng(0)
    x = (rng.random((64, 64)) < 0.3).astype(np.float32)          # 64 binary 8x8 "images"
    m = ConvVAE(64, ConvVAEConfig(latent_dim=2, channels=(4, 8), seed=0))
    h = m.fit(x, epochs=6, progress_bar=False)
    assert h["elbo"][-1] > h["elbo"][0]                             # it learns
    assert m.encode(x).shape == (64, 2) and m.sample(5, seed=0).shape == (5, 64)
    assert ((m.sample(5, seed=0) >= 0) & (m.sample(5, seed=0) <= 1)).all()
    convs = [mod for mod in m.encoder.modules() if isinstance(mod, torch.nn.Conv2d)]
    assert len(convs) == 2 and any(isinstance(mod, torch.nn.ConvTranspose2d) for mod in m.decoder.modules())
    m2 = ConvVAE.load(m.save(tmp_path / "cvae.pt"))
    assert np.allclose(m2.sample(3, seed=1), m.sample(3, seed=1))
    with pytest.raises(ValueError, match="H\\*W"):
        ConvVAE(60, ConvVAEConfig())
    with pytest.raises(ValueError, match="even"):
        ConvVAEConfig(image_shape=(7, 8))
