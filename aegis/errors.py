"""Exceptions the kernel raises to operators; each message says what and where."""


class AegisError(Exception):
    """Base class of every error Aegis reports to an operator."""

    exit_code = 1


class ConfigError(AegisError):
    """The deployment YAML is invalid; ``errors`` holds every problem with its path."""

    exit_code = 2

    def __init__(self, errors: list[str], source: str = "config"):
        self.errors = list(errors)
        self.source = source
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"{source}: {len(self.errors)} error(s)\n{lines}")


class PluginLoadError(AegisError):
    """A plugin named in the config is missing, broken or installed twice."""

    exit_code = 3


class SecurityViolation(AegisError):
    """A secret would be taken from where the security mode forbids it."""

    exit_code = 78  # EX_CONFIG

    def __str__(self) -> str:
        return f"FATAL: Security Violation: {self.args[0]}"


class SecretNotFound(AegisError, KeyError):
    """The secrets backend has no secret or key of that name."""

    def __str__(self) -> str:
        return str(self.args[0])


class ScreeningError(AegisError):
    """A scoring plugin failed on a batch (its transactions go to INVESTIGATE)."""
