"""Volley's error hierarchy.

Every error a user can provoke is a ``VolleyError``. Leaves also subclass the builtin that fits,
so ``except ValueError`` in user code keeps working. Messages read
``<what is wrong>; expected X, got Y; <hint>``.
"""

from __future__ import annotations


class VolleyError(Exception):
    """Root of every error Volley raises on purpose."""


class PlanError(VolleyError, ValueError):
    """The plan a user built is invalid: unknown column, wrong types, bad arguments."""


class UnknownColumnError(PlanError, KeyError):
    """A column name does not exist in the input; the message lists those that do."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class UnknownTableError(PlanError, KeyError):
    """A table or view name is not in the catalog."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class TypeMismatchError(PlanError, TypeError):
    """An expression's operand types do not fit the operation."""


class UnsupportedFeatureError(VolleyError, NotImplementedError):
    """A PyFlink feature Volley does not implement (yet); the message names an alternative."""


class SqlParseError(VolleyError, ValueError):
    """SQL text does not parse; the message carries line, column and the offending text."""


class SqlValidationError(PlanError):
    """SQL parses but refers to something that does not exist or does not type-check."""


class ConnectorError(VolleyError, ValueError):
    """A connector is misconfigured (unknown connector, missing option, bad path)."""


class MalformedRowError(VolleyError, ValueError):
    """An input row cannot be parsed; names the file, line and column."""


class UdfError(VolleyError, RuntimeError):
    """A user-defined function raised; chains the user's exception with its traceback."""


class ChangelogModeError(PlanError):
    """A sink cannot take the changelog the plan produces (e.g. updates into an append-only sink)."""


class JobExecutionError(VolleyError, RuntimeError):
    """A job failed while running, for a reason that is not the user's function."""


class ConfigurationError(VolleyError, ValueError):
    """A configuration value is malformed or not one Volley can honour; names the key."""


class CheckpointError(VolleyError, RuntimeError):
    """A checkpoint to restore from is missing, incomplete or does not fit the job."""


class JobCancelledError(VolleyError, RuntimeError):
    """The job was cancelled before it finished (``JobClient.cancel()``)."""
