import json

import pytest

from vae_core.config import TrainConfig, config_from_dict, config_to_json, parse_overrides, with_values
from vae_core.errors import ConfigError, UnknownNameError
from vae_core.models import VAEConfig
from vae_core.registry import config_from_json_dict, get_entry, make_config, model_names


def test_json_round_trip_keeps_every_field_and_sorts_keys():
    config = make_config("beta_vae", dataset="dsprites", image_size=64, latent_dim=7).resolved()
    text = config_to_json(config)
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert config_from_json_dict(data) == config


def test_beta_vae_is_the_vae_class_with_beta_4():
    assert get_entry("beta_vae").model_cls is get_entry("vae").model_cls
    assert make_config("beta_vae").beta == 4.0
    assert make_config("vae").beta == 1.0
    assert make_config("beta_vae", beta=16.0).beta == 16.0


def test_unknown_model_lists_the_valid_names():
    with pytest.raises(UnknownNameError) as info:
        get_entry("vea")
    message = str(info.value)
    assert "'vea'" in message and all(name in message for name in model_names())


def test_unknown_key_is_rejected_with_the_valid_keys():
    with pytest.raises(ConfigError, match="unknown keys \\['latnet_dim'\\].*latent_dim"):
        config_from_dict(VAEConfig, {"latnet_dim": 3})


@pytest.mark.parametrize("key, value", [("latent_dim", "10"), ("beta", "high"), ("hidden_dims", 400), ("latent_dim", True)])
def test_wrong_types_are_rejected(key, value):
    with pytest.raises(ConfigError, match=key):
        config_from_dict(VAEConfig, {key: value})


def test_int_is_accepted_for_float():
    assert config_from_dict(VAEConfig, {"beta": 4}).beta == 4.0


def test_overrides_parse_json_values_and_reject_unknown_keys():
    values = parse_overrides(["hidden_dims=[512,256]", "beta=2.5", "likelihood=gaussian", "obs-std=0.2"])
    assert values == {"hidden_dims": [512, 256], "beta": 2.5, "likelihood": "gaussian", "obs_std": 0.2}
    config = with_values(VAEConfig(), values)
    assert config.hidden_dims == [512, 256] and config.beta == 2.5 and config.likelihood == "gaussian"
    with pytest.raises(ConfigError, match="setting 'betta' is unknown; valid keys: .*beta"):
        with_values(VAEConfig(), {"betta": 2})
    with pytest.raises(ConfigError, match="beta must be float"):
        with_values(VAEConfig(), {"beta": "big"})
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["beta"])


def test_resolved_picks_conv_for_64_and_mlp_for_8():
    assert VAEConfig(image_size=64).resolved().conv_channels == [32, 32, 32, 32]
    assert VAEConfig(image_size=8).resolved().architecture == "mlp"


@pytest.mark.parametrize(
    "values, match",
    [
        ({"architecture": "conv", "image_size": 30, "conv_channels": [32, 32]}, "not divisible"),
        ({"likelihood": "poisson"}, "likelihood 'poisson' is unknown"),
        ({"objective": "kl"}, "objective"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"format_version": 99}, "format_version"),
    ],
)
def test_invalid_values_are_named(values, match):
    with pytest.raises(ConfigError, match=match):
        VAEConfig(**values).resolved()


def test_train_config_validation():
    with pytest.raises(ConfigError, match="batch_size"):
        TrainConfig(batch_size=0).validate()
    with pytest.raises(ConfigError, match="device 'tpu'"):
        TrainConfig(device="tpu").validate()
