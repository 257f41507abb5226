"""A VAE over token sequences: molecules written as SMILES (Gomez-Bombarelli et al. 2018) and sentences (Bowman et al.
2016), with one recurrent encoder and decoder for both.

The encoder is a bidirectional GRU whose last states give q(z|x). The decoder is a GRU that starts from a state made
of z and reads z again beside every token, predicting each token from the ones before it (teacher forcing in
training; greedy, one token at a time, when it decodes a code). Such a decoder is strong enough to model the data
without z, so a plain ELBO often ends with the KL at zero and a code the decoder ignores (posterior collapse). Bowman
et al.'s two remedies are settings: `warmup_steps` raises the KL's weight from 0 (KL annealing) and `word_dropout`
replaces that share of the decoder's input tokens by <unk>, so it must lean on z to know what comes next.

encode(x) takes (B, L) int64 token ids (<bos> ... <eos> <pad>...) and decode(z) returns them, greedy, in the same
layout: what a code decodes to is a string, which the dataset joins for the page (vae_core.data.sequences).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence

from ..config import ModelConfig
from ..errors import ConfigError
from ..losses import log_normal, warmup_weight
from ..tokens import BOS, EOS, PAD, SPECIALS, UNK
from .base import Capabilities, LatentVariableModel, LossTerms, Posterior, register

PAD_ID, BOS_ID, EOS_ID, UNK_ID = (SPECIALS.index(t) for t in (PAD, BOS, EOS, UNK))


@dataclass
class SequenceVAEConfig(ModelConfig):
    dataset: str = "wordnet"
    image_size: int = 1  # a sequence model has no image: the shared image fields stay 1 x 1
    latent_dim: int = 16
    tokens: list[str] = field(default_factory=list)  # the vocabulary by id; filled from the training split
    max_length: int = 0  # ids per sequence, <bos> and <eos> included; filled from the dataset
    embed_dim: int = 64
    encoder_hidden: int = 256  # per direction
    decoder_hidden: int = 512
    decoder_layers: int = 1
    beta: float = 1.0  # the KL's weight once annealed
    warmup_steps: int = 0  # KL annealing: the weight rises linearly from 0 to beta over these steps (0: none)
    word_dropout: float = 0.0  # share of the decoder's input tokens replaced by <unk> in training
    # The output layer scores each token against its input embedding (Press & Wolf 2017; Inan et al. 2017): with a
    # vocabulary of 10,000 words that is a fifth of the weights, for a language model at least as good.
    tied_output: bool = False

    def validate(self) -> None:
        super().validate()
        from ..data.sequences import SOURCES

        if self.dataset not in SOURCES:
            raise ConfigError(f"model seq_vae reads token sequences: dataset must be one of {', '.join(SOURCES)}, "
                              f"got {self.dataset!r}; image datasets take the other models")
        if self.tokens and tuple(self.tokens[: len(SPECIALS)]) != SPECIALS:
            raise ConfigError(f"tokens must start with {', '.join(SPECIALS)}")
        if self.tokens and self.max_length < 3:
            raise ConfigError(f"max_length must leave room for <bos>, a token and <eos>; got {self.max_length}")
        for name in ("embed_dim", "encoder_hidden", "decoder_hidden", "decoder_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.word_dropout < 1.0:
            raise ConfigError(f"word_dropout is a share of tokens in [0, 1), got {self.word_dropout}")
        if self.beta < 0:
            raise ConfigError(f"beta must not be negative, got {self.beta}")
        if self.warmup_steps < 0:
            raise ConfigError(f"warmup_steps must be 0 (no annealing) or a number of steps, got {self.warmup_steps}")

    def fit_to_data(self, dataset) -> "SequenceVAEConfig":
        if self.tokens:
            return self
        from dataclasses import replace

        return replace(self, tokens=list(dataset.vocabulary.tokens), max_length=dataset.length)


@register("seq_vae", SequenceVAEConfig,
          summary="recurrent VAE over token sequences (SMILES molecules, sentences): GRU encoder and decoder, KL "
                  "annealing, word dropout")
class SequenceVAE(LatentVariableModel):
    config: SequenceVAEConfig
    capabilities = Capabilities(sequence=True)

    def __init__(self, config: SequenceVAEConfig):
        super().__init__(config)
        if not config.tokens:
            raise ConfigError("a seq_vae needs its vocabulary (config.tokens); the Trainer fills it from the data")
        vocab, c = len(config.tokens), config
        self.embedding = nn.Embedding(vocab, c.embed_dim, padding_idx=PAD_ID)
        self.encoder = nn.GRU(c.embed_dim, c.encoder_hidden, batch_first=True, bidirectional=True)
        self.to_posterior = nn.Linear(2 * c.encoder_hidden, 2 * c.latent_dim)
        self.to_state = nn.Linear(c.latent_dim, c.decoder_layers * c.decoder_hidden)
        self.decoder = nn.GRU(c.embed_dim + c.latent_dim, c.decoder_hidden, num_layers=c.decoder_layers,
                              batch_first=True)
        if c.tied_output:  # decoder state -> an embedding, scored against every token's embedding
            self.to_logits = nn.Linear(c.decoder_hidden, c.embed_dim)
            self.output_bias = nn.Parameter(torch.zeros(vocab))
        else:
            self.to_logits = nn.Linear(c.decoder_hidden, vocab)

    def _logits(self, states: torch.Tensor) -> torch.Tensor:
        """(..., H) decoder states -> (..., V) logits of the next token."""
        if self.config.tied_output:
            return F.linear(self.to_logits(states), self.embedding.weight, self.output_bias)
        return self.to_logits(states)

    # --- the model API ---------------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> Posterior:
        """q(z|x): (B, L) token ids -> mean and log-variance, each (B, D)."""
        lengths = (x != PAD_ID).sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(self.embedding(x), lengths, batch_first=True, enforce_sorted=False)
        _, last = self.encoder(packed)  # (2, B, H): each direction's state after the whole sequence
        mean, logvar = self.to_posterior(torch.cat([last[0], last[1]], dim=1)).float().chunk(2, dim=1)
        return Posterior(mean, logvar.clamp(-30.0, 20.0))

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None, *, inputs: torch.Tensor | None = None
                      ) -> torch.Tensor:
        """Logits of every next token given z and the tokens before it: (B, D) and (B, L) ids -> (B, L - 1, V).
        Without `inputs` there is nothing to condition on: decode(z) generates instead."""
        return self._logits(self._read(z, inputs))

    def _read(self, z: torch.Tensor, inputs: torch.Tensor | None) -> torch.Tensor:
        """The decoder's states while it reads <bos> t1 t2 ... (teacher forcing): (B, L - 1, H), the state at
        position i predicting token i + 1."""
        if inputs is None:
            raise ConfigError("a sequence decoder's logits are for a given token sequence (teacher forcing); "
                              "decode(z) generates the sequence")
        steps = inputs[:, :-1]
        embedded = self.embedding(steps)
        codes = z.unsqueeze(1).expand(-1, steps.shape[1], -1)
        out, _ = self.decoder(torch.cat([embedded, codes.to(embedded.dtype)], dim=2), self._start_state(z))
        return out

    def sequence_nll(self, z: torch.Tensor, x: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
        """-log p(x | z) per sequence (B,), the decoder reading `inputs` (x itself by default). Equal to
        reconstruction_nll(decode_logits(z, inputs=x), x), but the output layer, which costs most with a large
        vocabulary, runs only where a token is predicted, not on the padding."""
        states = self._read(z, x if inputs is None else inputs)
        targets = x[:, 1:]
        real = targets != PAD_ID
        nll = F.cross_entropy(self._logits(states[real]).float(), targets[real], reduction="none")
        rows = torch.arange(len(x), device=x.device).unsqueeze(1).expand_as(targets)[real]
        return torch.zeros(len(x), device=x.device, dtype=nll.dtype).index_add_(0, rows, nll)

    def _start_state(self, z: torch.Tensor) -> torch.Tensor:
        c = self.config
        return torch.tanh(self.to_state(z)).view(-1, c.decoder_layers, c.decoder_hidden).transpose(0, 1).contiguous()

    def reconstruction_nll(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """-log p(x | z) per sequence (B,): the cross-entropy of every token after <bos>, <eos> included."""
        targets = x[:, 1:]
        nll = F.cross_entropy(logits.float().transpose(1, 2), targets, reduction="none", ignore_index=PAD_ID)
        return nll.sum(1)

    def distortion(self, x: torch.Tensor, y: torch.Tensor | None = None, mean: torch.Tensor | None = None
                   ) -> torch.Tensor:
        return self.sequence_nll(self.encode(x).mean if mean is None else mean, x)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None, temperature: float = 0.0,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """The sequence the decoder writes for each code, one token at a time: (B, D) -> (B, max_length) int64 ids,
        <bos> first, <pad> after <eos>. temperature 0 takes the likeliest token each time (what the pages show);
        above 0 it samples from the softmax of logits / temperature."""
        b, length = z.shape[0], self.config.max_length
        ids = torch.full((b, length), PAD_ID, dtype=torch.int64, device=z.device)
        ids[:, 0] = BOS_ID
        state = self._start_state(z)
        token = ids[:, :1]
        done = torch.zeros(b, dtype=torch.bool, device=z.device)
        code = z.unsqueeze(1)
        for t in range(1, length):
            out, state = self.decoder(torch.cat([self.embedding(token), code.to(self.embedding.weight.dtype)], 2), state)
            logits = self._logits(out[:, 0]).float()
            logits[:, [PAD_ID, BOS_ID, UNK_ID]] = float("-inf")  # never written: <unk> is training's stand-in
            if t == length - 1:
                nxt = torch.full((b,), EOS_ID, dtype=torch.int64, device=z.device)  # every sequence ends
            elif temperature > 0:
                nxt = torch.multinomial(torch.softmax(logits / temperature, 1), 1, generator=generator).squeeze(1)
            else:
                nxt = logits.argmax(1)
            ids[:, t] = torch.where(done, PAD_ID, nxt)
            done |= nxt == EOS_ID
            if bool(done.all()):
                break
            token = nxt.unsqueeze(1)
        return ids

    def reconstruct(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(self.encode(x).mean)

    # --- training ----------------------------------------------------------------------------------------------
    def elbo_parts(self, x: torch.Tensor, y: torch.Tensor | None = None, inputs: torch.Tensor | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """One-sample estimate: reconstruction NLL per sequence (B,) and KL per dimension (B, D). `inputs`: what the
        decoder reads (x with some tokens dropped, in training)."""
        posterior = self.encode(x)
        z = posterior.rsample()
        return self.sequence_nll(z, x, inputs), posterior.kl_per_dim()

    def dropped_words(self, x: torch.Tensor) -> torch.Tensor:
        """x with a word_dropout share of its tokens (never <bos>, <eos> or <pad>) replaced by <unk>."""
        rate = self.config.word_dropout
        if rate <= 0 or not self.training:
            return x
        words = (x != PAD_ID) & (x != BOS_ID) & (x != EOS_ID)
        drop = words & (torch.rand(x.shape, device=x.device) < rate)
        return torch.where(drop, torch.full_like(x, UNK_ID), x)

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None, step: int | None = None) -> LossTerms:
        recon, kl_per_dim = self.elbo_parts(x, inputs=self.dropped_words(x))
        recon, kl_per_dim = recon.mean(), kl_per_dim.mean(0)
        kl = kl_per_dim.sum()
        weight = self.config.beta * warmup_weight(step, self.config.warmup_steps)
        tokens = (x[:, 1:] != PAD_ID).sum(1).float().mean()
        return LossTerms(total=recon + weight * kl, recon=recon, kl=kl, kl_per_dim=kl_per_dim,
                         extra={"kl_weight": torch.tensor(weight), "tokens": tokens})

    @torch.no_grad()
    def log_importance_weights(self, x: torch.Tensor, k: int, y: torch.Tensor | None = None,
                               shared_noise: bool = False) -> torch.Tensor:
        """log p(x, z_k) - log q(z_k | x) for k posterior samples per sequence: (K, B)."""
        posterior = self.encode(x)
        b, d = posterior.mean.shape
        eps = torch.randn(k, 1 if shared_noise else b, d, device=x.device)
        z = posterior.mean + posterior.std * eps  # (K, B, D)
        x_rep = x.unsqueeze(0).expand(k, *x.shape).reshape(k * b, x.shape[1])
        log_px_z = -self.sequence_nll(z.reshape(k * b, d), x_rep).view(k, b)
        log_pz = log_normal(z, torch.zeros_like(z), torch.zeros_like(z)).sum(-1)
        log_qz_x = log_normal(z, posterior.mean, posterior.logvar).sum(-1)
        return log_px_z + log_pz - log_qz_x

    def sample(self, n: int, y: torch.Tensor | None = None, temperature: float = 1.0,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """n sequences decoded (greedily) from z ~ N(0, temperature^2 I): (n, max_length) ids."""
        z = torch.randn(n, self.latent_dim, generator=generator, device=self.device) * temperature
        return self.decode(z)
