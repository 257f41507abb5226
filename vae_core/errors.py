"""Errors meant for people: each says what was wrong and what to do."""


class VaeError(Exception):
    """Base class for every error the library raises on bad input; the CLI prints it as one line."""


class UnknownNameError(VaeError, KeyError):
    """A model, dataset or option name that is not known."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class DataError(VaeError):
    """Data that is missing, corrupt or of the wrong shape."""


class CheckpointError(VaeError):
    """A checkpoint folder that is missing, corrupt or inconsistent."""


class ConfigError(VaeError):
    """A configuration with unknown keys, wrong types or values out of range."""


class TrainingError(VaeError):
    """Training that cannot start or cannot go on (e.g. the loss became NaN)."""


class TrainingInterrupted(VaeError):
    """Ctrl-C: the run stopped after saving a checkpoint it can resume from."""


def unknown_name(kind: str, name: str, valid: "list[str] | tuple[str, ...]") -> UnknownNameError:
    """The standard message for an unknown name, listing the valid ones."""
    return UnknownNameError(f"{kind} {name!r} is unknown; choose one of: {', '.join(valid)}")
