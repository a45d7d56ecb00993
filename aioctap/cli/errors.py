"""How the command line reports failures: one line (``error: ...``), at most one more line of hint (``hint: ...``).

Exit status 2 for usage errors (click's), 1 for failures. A traceback is shown only with ``aioctap --debug``.
Messages never carry a Python class name, nor a secret (messages of aioctap's errors carry none).
"""

from __future__ import annotations

import errno
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from typer._click import Context  # the click that typer's commands are made of (typer >= 0.20 vendors it)

# click's UsageError and ClickException: typer >= 0.20 vendors click (typer._click), older typer uses click itself
UsageError: type[Exception] = typer.BadParameter.__mro__[1]
ClickException: type[Exception] = typer.BadParameter.__mro__[2]

__all__ = ["CliError", "TyperGroupWithErrors", "explain", "print_error", "unwrap"]

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class CliError(Exception):
    """A failure explained to the user: a message and an optional hint saying what to do (exit status 1)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


_CLASS_NAME = re.compile(r"\b(?:[a-z_][a-z0-9_]*\.)*[A-Z][A-Za-z0-9]*(?:Error|Exception|Warning): ")


def _one_line(text: str) -> str:
    """``text`` on one line, without the Python class names some libraries put in their messages."""
    return _CLASS_NAME.sub("", " ".join(text.split()))


def unwrap(exc: BaseException) -> BaseException:
    """The one exception inside (nested) single-exception groups, as a task group wraps it."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _ctap_hint(exc: BaseException) -> str | None:
    from ..ctap import CtapError

    if not isinstance(exc, CtapError) or not isinstance(exc.code, CtapError.ERR):
        return None
    ERR = CtapError.ERR
    return {
        ERR.PIN_INVALID: "wrong PIN",
        ERR.PIN_BLOCKED: "the PIN is blocked: only 'aioctap reset' helps now (it erases everything)",
        ERR.PIN_AUTH_BLOCKED: "too many wrong PINs: unplug and plug in the authenticator, then retry",
        ERR.PIN_NOT_SET: "no PIN is set: use 'aioctap pin set'",
        ERR.PIN_POLICY_VIOLATION: "the PIN does not meet the authenticator's PIN policy "
        "(after 'config min-pin-length' or --force-change: run 'aioctap pin change')",
        ERR.PUAT_REQUIRED: "this needs a PIN: set one with 'aioctap pin set'",
        ERR.NOT_ALLOWED: "not allowed now (reset works only shortly after plugging in)",
        ERR.OPERATION_DENIED: "the user refused",
        ERR.USER_ACTION_TIMEOUT: "nobody touched the authenticator in time",
        ERR.NO_CREDENTIALS: "no such credential",
        ERR.KEEPALIVE_CANCEL: "cancelled",
    }.get(exc.code)


def explain(raised: BaseException) -> CliError:
    """The one-line explanation (and hint) of an exception a command raised."""
    from ..client import ClientError
    from ..ctap import CtapError, TransportError
    from ..stores.base import StoreError

    exc = unwrap(raised)
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, ClientError):  # the WebAuthn client's: the authenticator's answer, or what was wrong
        if isinstance(exc.cause, BaseException):
            return explain(exc.cause)
        return CliError(_one_line(str(exc.cause or exc.code.name.lower().replace("_", " "))))
    if isinstance(exc, CtapError):
        hint = _ctap_hint(exc)
        return CliError(f"the authenticator answered {exc.code}" + (f": {hint}" if hint else ""))
    if isinstance(exc, ImportError) and "hidapi" in str(exc):  # HidapiMissing
        message, _, hint = str(exc).partition(": install it with ")
        return CliError(_one_line(message), _one_line("install it with " + hint) if hint else None)
    module = type(exc).__module__
    if module.startswith("aioctap.virtual") and type(exc).__name__ == "StateError":
        text = _one_line(str(exc))
        if "AIOCTAP_VIRTUAL_KEY" in text:
            return CliError(text, "unset AIOCTAP_VIRTUAL_KEY to use the key file STATE_FILE.key instead")
        return CliError(
            text,
            "give the file 'aioctap virtual --state' wrote, with its key (STATE_FILE.key or AIOCTAP_VIRTUAL_KEY), "
            "or a new file name for a fresh authenticator",
        )
    if isinstance(exc, StoreError):
        message, _, hint = _one_line(str(exc)).partition(": pip install ")
        return CliError(message, f"pip install {hint}" if hint else None)
    if isinstance(exc, TimeoutError):
        return CliError(_one_line(str(exc)) or "timed out")
    if isinstance(exc, OSError):
        return _os_error(exc)
    if str(exc).startswith("cannot open HID device"):
        return CliError(_one_line(str(exc)), "'aioctap devices' lists the FIDO HID devices and their addresses")
    if isinstance(exc, TransportError | ValueError):  # aioctap's typed errors on bad input say what was wrong
        return CliError(_one_line(str(exc)) or "invalid input")
    text = _one_line(str(exc))
    return CliError(
        f"unexpected failure{': ' + text if text else ''}",
        "this is a bug in aioctap: run the command again with --debug for the traceback and report it",
    )


def _os_error(exc: OSError) -> CliError:
    what = exc.strerror or _one_line(str(exc)) or "input/output error"
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno == errno.EADDRINUSE:
        return CliError(f"the address is already in use{where}", "stop the program using it, or choose another port")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return CliError(f"permission denied{where}", "check the file's or device's permissions")
    return CliError(f"{what[0].lower()}{what[1:]}{where}")


def print_error(error: CliError) -> None:
    """``error: MESSAGE`` and, when there is one, ``hint: HINT`` on standard error."""
    err_console.print(f"[red]error:[/red] {escape(error.message)}")
    if error.hint:
        err_console.print(f"[dim]hint:[/dim] {escape(error.hint)}")


_METAVARS = {str: "TEXT", int: "INTEGER", float: "NUMBER", Path: "PATH"}


def _readable_types(command: Any) -> None:
    """Help types TEXT, INTEGER, NUMBER, PATH, none for a flag (not typer's <str>, <bool>, <list[str]>)."""
    for param in getattr(command, "params", []):
        descriptor = getattr(param, "type_descriptor", None)  # typer >= 0.20's parameters; older typer shows TEXT
        if param.metavar is not None or descriptor is None or descriptor.is_choice:
            continue
        if getattr(param, "is_flag", False):
            param.metavar = ""
        else:
            annotation = descriptor.annotation
            element = get_args(annotation)[0] if descriptor.is_list and get_args(annotation) else annotation
            name = _METAVARS.get(element, "VALUE")
            if param.param_type_name == "argument":  # its name is in the usage line; the type column gets the type
                param.metavar = str(param.name).upper()
                param.display_type_rich = lambda ctx, name=name: name
            else:
                param.metavar = name
    help_option = getattr(command, "get_help_option", None)
    if help_option is not None and not getattr(command, "_readable_help_option", False):
        command._readable_help_option = True

        def get_help_option(ctx: Any) -> Any:
            option = help_option(ctx)
            if option is not None and option.metavar is None:
                option.metavar = ""
            return option

        command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        _readable_types(sub)


class TyperGroupWithErrors(typer.core.TyperGroup):
    """The root command group: every failure below it becomes one or two lines and an exit status; help shows
    readable types."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # TyperGroup's own parameters, passed on
        _readable_types(self)

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        """Parse the root options; the shell-completion options typer adds after ``__init__`` get readable types."""
        _readable_types(self)
        return super().parse_args(ctx, args)

    def _leaf_path(self, ctx: Context, args: list[str]) -> str:
        """The path of the (sub)command ``args`` name, for a usage error raised in its body."""
        path = [ctx.command_path]
        command: Any = self
        for arg in args:
            sub = command.get_command(ctx, arg) if hasattr(command, "get_command") else None
            if sub is None:
                break
            path.append(arg)
            command = sub
        return " ".join(path)

    def invoke(self, ctx: Context) -> object:
        """Run the command line; report a usage error (exit 2) or a failure (exit 1) as :func:`print_error` does."""
        args = [*getattr(ctx, "_protected_args", []), *ctx.args]  # click empties them in invoke
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, KeyboardInterrupt, BrokenPipeError):
            raise  # typer's own handling (a closed pipe: exit 1 quietly)
        except UsageError as e:  # exit status 2, as click, in one line
            if ctx.params.get("debug"):
                raise
            where = getattr(e, "ctx", None)
            command = str(where.command_path) if where is not None else self._leaf_path(ctx, args)
            print_error(CliError(_one_line(str(getattr(e, "format_message", e.__str__)())), f"see '{command} --help'"))
            raise typer.Exit(2) from None
        except ClickException:
            raise
        except Exception as e:
            if ctx.params.get("debug"):
                raise
            print_error(explain(e))
            raise typer.Exit(1) from None
