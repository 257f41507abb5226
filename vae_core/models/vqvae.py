"""The VQ-VAE (van den Oord et al. 2017) with an EMA codebook, and a causal transformer prior over its code grid.

One training run has two stages, chosen by the step. Steps below `vq_steps` train the encoder and decoder on
reconstruction + commitment while the codebook follows the encoder by exponential moving averages (the paper's
appendix; Razavi et al. 2019), never by the optimizer; codes nobody chooses are restarted from encoder outputs
(Dhariwal et al. 2020). Every later step freezes all that and fits the prior to the code grids of the training
images; sample() draws a grid from the prior and decodes it.

The explorer's coordinates are the encoder's outputs before quantization, the (G, G, code_dim) grid flattened
position by position: decoding any point snaps each position to its nearest code, so a slider moves the image in steps.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import ModelConfig
from ..distributed import gather_batch
from ..errors import ConfigError
from .base import DETERMINISTIC_LOGVAR, Capabilities, LatentVariableModel, LossTerms, Posterior, register
from .blocks import MLPDecoder, MLPEncoder

log = logging.getLogger(__name__)

# Laplace smoothing of the EMA cluster sizes (Sonnet's VectorQuantizerEMA): a code with no vectors never divides by 0.
LAPLACE_EPS = 1e-5


@dataclass
class VQVAEConfig(ModelConfig):
    latent_dim: int = 0  # derived, not set: resolved() makes it grid_size^2 * code_dim (and ignores another value)
    codebook_size: int = 64  # K, the number of codes
    code_dim: int = 16  # the length of each code (the encoder's output channels)
    commitment: float = 0.25  # beta: weight of ||z_e - sg(e)||^2, which keeps the encoder near the codes it picks
    ema_decay: float = 0.99  # gamma of the codebook's moving averages of cluster sizes and sums
    # A code whose EMA count of vectors won per batch falls below this is restarted from a random encoder output of
    # the batch; 0 never restarts. A never-chosen code falls from 1 to 0.1 in 230 steps at ema_decay 0.99. After 1000
    # steps on digits 0.1 reconstructs best (17.0 nats vs 17.2 at 0.01 and 17.8 at Jukebox's 1.0, whose codes churn);
    # with 0, 7 codes of 64 stay in use.
    dead_code_threshold: float = 0.1
    mlp_grid: int = 2  # MLP family: the code grid is mlp_grid x mlp_grid (conv: image_size / 2^len(conv_channels))
    vq_steps: int = 1000  # steps of stage 1 (encoder, decoder, codebook); every later step trains the prior
    prior_layers: int = 2  # transformer layers of the prior
    prior_dim: int = 64  # width of the prior's token and position embeddings
    prior_heads: int = 4  # attention heads of the prior; must divide prior_dim

    @property
    def grid_size(self) -> int:
        """The code grid's side G, on a resolved config."""
        return self.image_size >> len(self.conv_channels) if self.architecture == "conv" else self.mlp_grid

    def resolved(self) -> "VQVAEConfig":
        """A copy with "auto" resolved, conv_channels defaulting to two halvings (three for 64 pixels: a 7x7 or 8x8
        grid of codes, not the VAE's 4x4 feature map), latent_dim set to grid_size^2 * code_dim; then validated."""
        cfg = dataclasses.replace(self)
        if cfg.architecture == "auto":  # the rule every model shares, asked of ModelConfig itself
            cfg.architecture = ModelConfig(image_size=cfg.image_size).resolved().architecture
        if cfg.architecture == "conv" and not cfg.conv_channels:
            cfg.conv_channels = [32, 64, 64] if cfg.image_size >= 64 else [32, 64]
        derived = cfg.grid_size**2 * cfg.code_dim
        if cfg.latent_dim not in (0, derived):  # e.g. --latent-dim, or a harness that sets it for every variant
            log.warning(
                "latent_dim %d is ignored: a VQ-VAE's is grid_size^2 * code_dim = %d^2 * %d = %d; change code_dim, "
                "mlp_grid or conv_channels instead", cfg.latent_dim, cfg.grid_size, cfg.code_dim, derived,
            )
        cfg.latent_dim = derived
        cfg.validate()
        return cfg

    def validate(self) -> None:
        for name in ("code_dim", "mlp_grid", "vq_steps", "prior_layers", "prior_dim", "prior_heads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.codebook_size < 2:
            raise ConfigError(f"codebook_size must be at least 2, got {self.codebook_size}")
        for name in ("commitment", "dead_code_threshold"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"{name} must not be negative, got {getattr(self, name)}")
        if not 0 <= self.ema_decay < 1:
            raise ConfigError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.prior_dim % self.prior_heads:
            raise ConfigError(f"prior_heads {self.prior_heads} must divide prior_dim {self.prior_dim}")
        super().validate()  # after the checks above, so a bad code_dim is named as such, not as latent_dim 0
        resolved = self.architecture == "mlp" or (self.architecture == "conv" and self.conv_channels)
        if resolved and self.latent_dim != self.grid_size**2 * self.code_dim:  # a hand-edited config.json
            raise ConfigError(
                f"latent_dim of a VQ-VAE is grid_size^2 * code_dim = {self.grid_size}^2 * {self.code_dim} = "
                f"{self.grid_size**2 * self.code_dim}, got {self.latent_dim}; change code_dim, mlp_grid or "
                "conv_channels instead"
            )


# The conv layers are channels-last for the CPU's sake, as in blocks.py.


class ConvGridEncoder(nn.Module):
    """(B, C, H, W) -> (B, G*G*code_dim): blocks.ConvEncoder's 4x4 stride-2 convs, then a 3x3 conv and a 1x1
    projection to code_dim channels in place of its linear head; flattened position by position."""

    def __init__(self, image_shape: tuple[int, int, int], channels: list[int], code_dim: int):
        super().__init__()
        c = image_shape[0]
        layers: list[nn.Module] = []
        for width in channels:
            layers += [nn.Conv2d(c, width, kernel_size=4, stride=2, padding=1), nn.ReLU()]
            c = width
        layers += [nn.Conv2d(c, c, kernel_size=3, padding=1), nn.ReLU(), nn.Conv2d(c, code_dim, kernel_size=1)]
        self.net = nn.Sequential(*layers).to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.net(x.contiguous(memory_format=torch.channels_last))  # (B, D, G, G), stored as (B, G, G, D)
        return h.permute(0, 2, 3, 1).flatten(1)  # (B, G*G*D)


class ConvGridDecoder(nn.Module):
    """(B, G*G*code_dim) -> (B, C, H, W) logits: the ConvGridEncoder mirrored with transposed convs."""

    def __init__(self, code_dim: int, channels: list[int], image_shape: tuple[int, int, int], grid_size: int):
        super().__init__()
        self.grid_shape = (grid_size, grid_size, code_dim)
        widths = list(reversed(channels))
        layers: list[nn.Module] = [nn.Conv2d(code_dim, widths[0], kernel_size=3, padding=1), nn.ReLU()]
        for i, width in enumerate(widths):
            last = i + 1 == len(widths)
            layers.append(nn.ConvTranspose2d(width, image_shape[0] if last else widths[i + 1], 4, stride=2, padding=1))
            if not last:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers).to(memory_format=torch.channels_last)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = z.view(-1, *self.grid_shape).permute(0, 3, 1, 2)  # (B, D, G, G) with channels-last strides
        return self.net(h.contiguous(memory_format=torch.channels_last))  # (B, C, H, W)


class VectorQuantizer(nn.Module):
    """A codebook of K vectors, all buffers (saved with the weights, never seen by the optimizer): the codes, the EMA
    count of vectors per batch each code wins, and the EMA sum of those vectors."""

    def __init__(self, codebook_size: int, code_dim: int, decay: float, dead_code_threshold: float):
        super().__init__()
        self.decay = decay
        self.dead_code_threshold = dead_code_threshold
        self.register_buffer("codebook", torch.randn(codebook_size, code_dim))  # (K, D)
        # Every code starts as if it had won one vector, its own value. Starting empty instead (every code the first
        # batch leaves unused restarted at once) reconstructed digits worse after 1000 steps: 17.7 vs 17.0 nats.
        self.register_buffer("cluster_size", torch.ones(codebook_size))  # (K,)
        self.register_buffer("embed_sum", self.codebook.clone())  # (K, D)

    def nearest(self, vectors: torch.Tensor) -> torch.Tensor:
        """The index of each vector's nearest code in squared L2: (N, D) -> (N,) int64."""
        with torch.autocast(vectors.device.type, enabled=False):  # bf16 distances would pick the wrong code
            codebook = self.codebook
            # ||v - e||^2 = ||v||^2 - 2 v.e + ||e||^2; ||v||^2 is the same for every code, so it is left out
            distances = torch.addmm(codebook.pow(2).sum(1), vectors.float(), codebook.t(), alpha=-2.0)  # (N, K)
            return distances.argmin(1)

    @torch.no_grad()
    def update(self, vectors: torch.Tensor, indices: torch.Tensor) -> None:
        """One EMA step toward this batch's assignments (vectors (N, D), indices (N,)), then restart dead codes.

        N_k <- gamma N_k + (1 - gamma) n_k and m_k <- gamma m_k + (1 - gamma) sum of the vectors k won; the code is
        m_k over the Laplace-smoothed N_k."""
        vectors = vectors.float()
        k = len(self.codebook)
        counts = torch.bincount(indices, minlength=k).to(vectors.dtype)  # (K,)
        sums = torch.zeros_like(self.embed_sum).index_add_(0, indices, vectors)  # (K, D)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.embed_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        n = self.cluster_size.sum()
        smoothed = (self.cluster_size + LAPLACE_EPS) / (n + k * LAPLACE_EPS) * n
        self.codebook.copy_(self.embed_sum / smoothed.unsqueeze(1))
        dead = self.cluster_size < self.dead_code_threshold
        n_dead = int(dead.sum())
        if n_dead:
            picks = torch.randint(len(vectors), (n_dead,), device=vectors.device)
            self.codebook[dead] = vectors[picks]
            self.embed_sum[dead] = vectors[picks]
            self.cluster_size[dead] = 1.0  # a restarted code counts as having won one vector, the one it copies


class CodePrior(nn.Module):
    """p(c) = prod_t p(c_t | c_<t) over the raster-ordered code grid: a causal transformer with a start token and
    learned positions, as the second stage of van den Oord et al. (who used a PixelCNN)."""

    def __init__(self, codebook_size: int, length: int, dim: int, layers: int, heads: int):
        super().__init__()
        self.start = codebook_size  # the start token's id, one past the codes
        self.length = length
        self.token = nn.Embedding(codebook_size + 1, dim)
        self.position = nn.Parameter(torch.randn(length, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout=0.0, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, codebook_size)
        self.register_buffer("causal_mask", nn.Transformer.generate_square_subsequent_mask(length), persistent=False)

    def next_code_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits of the code after each prefix: tokens (B, t) starting with the start token -> (B, t, K)."""
        t = tokens.shape[1]
        h = self.token(tokens) + self.position[:t]  # (B, t, dim)
        h = self.blocks(h, mask=self.causal_mask[:t, :t], is_causal=True)
        return self.head(self.norm(h))

    def nll(self, codes: torch.Tensor) -> torch.Tensor:
        """-log p(codes) per grid, in nats: (B, T) -> (B,)."""
        start = torch.full_like(codes[:, :1], self.start)
        logits = self.next_code_logits(torch.cat([start, codes[:, :-1]], dim=1))  # (B, T, K)
        return F.cross_entropy(logits.float().transpose(1, 2), codes, reduction="none").sum(1)

    @torch.no_grad()
    def sample(self, n: int, temperature: float, generator: torch.Generator | None) -> torch.Tensor:
        """n code sequences (n, T), one code at a time; temperature 0 takes the most likely code."""
        tokens = torch.full((n, 1), self.start, dtype=torch.long, device=self.position.device)
        for _ in range(self.length):
            logits = self.next_code_logits(tokens)[:, -1].float()  # (n, K)
            if temperature == 0:
                code = logits.argmax(1, keepdim=True)
            else:
                code = torch.multinomial(torch.softmax(logits / temperature, dim=1), 1, generator=generator)
            tokens = torch.cat([tokens, code], dim=1)
        return tokens[:, 1:]


@register("vqvae", VQVAEConfig, summary="VQ-VAE: a grid of discrete codes (EMA codebook) and a transformer prior")
class VQVAE(LatentVariableModel):
    config: VQVAEConfig
    capabilities = Capabilities(has_kl=False, code_grid=True, normal_prior=False)
    trains_in_stages = True  # the prior waits for vq_steps; then the encoder, decoder and codebook stay as they are

    def __init__(self, config: VQVAEConfig):
        super().__init__(config)
        self.grid_size = config.grid_size
        self.code_dim = config.code_dim
        if config.architecture == "conv":
            self.encoder = ConvGridEncoder(config.image_shape, config.conv_channels, config.code_dim)
            self.decoder = ConvGridDecoder(config.code_dim, config.conv_channels, config.image_shape, self.grid_size)
        else:
            self.encoder = MLPEncoder(config.image_shape, config.hidden_dims, config.latent_dim)
            self.decoder = MLPDecoder(config.latent_dim, config.hidden_dims, config.image_shape)
        self.quantizer = VectorQuantizer(config.codebook_size, config.code_dim, config.ema_decay, config.dead_code_threshold)
        self.prior = CodePrior(
            config.codebook_size, self.grid_size**2, config.prior_dim, config.prior_layers, config.prior_heads
        )
        # Prior-stage losses computed in training mode (the Trainer steps once per loss): 0 means sample() has no prior.
        self.register_buffer("prior_steps_done", torch.zeros((), dtype=torch.long))

    # --- codes ----------------------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> Posterior:
        """The encoder's output before quantization as a point posterior: mean (B, G*G*code_dim)."""
        z = self.encoder(x).float()
        return Posterior(z, torch.full_like(z, DETERMINISTIC_LOGVAR))

    def nearest_indices(self, z: torch.Tensor) -> torch.Tensor:
        """The nearest code at each grid position: (B, G*G*code_dim) -> (B, G, G)."""
        return self.quantizer.nearest(z.reshape(-1, self.code_dim)).view(-1, self.grid_size, self.grid_size)

    def quantize_indices(self, x: torch.Tensor) -> torch.Tensor:
        """The code grid of images: (B, C, H, W) -> (B, G, G) int64."""
        return self.nearest_indices(self.encode(x).mean)

    def codes_from_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """Code grids -> their code vectors in encode()'s coordinates: (B, G, G) -> (B, G*G*code_dim)."""
        return F.embedding(indices, self.quantizer.codebook).flatten(1)

    def decode_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """Code grids -> images in [0, 1]: (B, G, G) -> (B, C, H, W)."""
        return self.logits_to_image(self.decoder(self.codes_from_indices(indices)))

    def _snap(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z (B, G*G*D) -> its code grid (B, G, G) and the codes (B, G*G*D), straight-through: the forward value is
        exactly the codes (z - z.detach() is exactly 0) and the gradient passes to z unchanged."""
        indices = self.nearest_indices(z)
        return indices, self.codes_from_indices(indices) + (z - z.detach())

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Snap every grid position of z to its nearest code, then decode: (B, G*G*D) -> (B, C, H, W) logits."""
        return self.decoder(self._snap(z)[1])

    # --- sampling -------------------------------------------------------------------------------------------
    def sample(
        self,
        n: int,
        y: torch.Tensor | None = None,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """n images decoded from code grids drawn from the prior, its softmax at `temperature` (0: most likely code)."""
        if int(self.prior_steps_done) == 0:
            v = self.config.vq_steps
            raise ConfigError(
                f"this VQ-VAE's prior was never trained: train for more than vq_steps={v} steps (every step after "
                f"them trains the prior), e.g. continue the run with `vae-explorer train --resume --out DIR --steps {v + 1000}`"
            )
        if not temperature >= 0:
            raise ConfigError(f"temperature must be a number >= 0, got {temperature}")
        codes = self.prior.sample(n, temperature, generator)  # (n, G*G)
        return self.decode_indices(codes.view(n, self.grid_size, self.grid_size))

    # --- training -------------------------------------------------------------------------------------------
    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None, step: int | None = None) -> LossTerms:
        """Stage 1 (step < vq_steps): recon + commitment, and in training mode one EMA step of the codebook.
        Stage 2 (later steps, or step None: as at the end of training): the prior's NLL of the frozen code grids.
        kl and kl_per_dim are zeros: there is no Gaussian posterior."""
        if step is not None and step < self.config.vq_steps:
            return self._vq_terms(x, update_codebook=self.training)[0]
        with torch.no_grad():
            terms, indices = self._vq_terms(x, update_codebook=False)
        terms.total = self.prior.nll(indices.flatten(1)).mean()
        terms.extra["prior_nll"] = terms.total.detach()
        if self.training:
            self.prior_steps_done.add_(1)
        return terms

    def _vq_terms(self, x: torch.Tensor, update_codebook: bool) -> tuple[LossTerms, torch.Tensor]:
        """Stage 1's terms and the code grid (B, G, G) of x; then, if asked, the codebook's EMA step on this batch."""
        z = self.encode(x).mean  # (B, G*G*D)
        indices, z_q = self._snap(z)
        commitment = self.config.commitment * (z - z_q.detach()).pow(2).sum(1).mean()
        recon = self.reconstruction_nll(self.decoder(z_q), x).mean()
        # the codebook's step and the code-use figures see the whole batch, also when it is split across processes
        batch_indices, _ = gather_batch(indices)
        counts = torch.bincount(batch_indices.flatten(), minlength=self.config.codebook_size).float()
        p = counts / counts.sum()
        if update_codebook:
            batch_z, _ = gather_batch(z.detach())
            self.quantizer.update(batch_z.reshape(-1, self.code_dim), batch_indices.flatten())
        terms = LossTerms(
            total=recon + commitment,
            recon=recon,
            kl=torch.zeros((), device=recon.device),
            kl_per_dim=torch.zeros(self.latent_dim, device=recon.device),
            extra={
                "commitment": commitment.detach(),
                "perplexity": torch.exp(-(p * torch.log(p.clamp_min(1e-12))).sum()),  # exp(entropy of code use)
                "codes_used": (counts > 0).sum().float(),
            },
        )
        return terms, indices
