"""Recipe configuration files: ``ferrum train JOB --config FILE`` and the resolved config saved with
a run.

A config file holds a recipe's options by their flag names (``batch_size`` or ``batch-size``), in
TOML (read with the standard library's ``tomllib``), YAML (needs PyYAML) or JSON, optionally with
``job = "<name>"`` (which must then be the recipe run). Values go through the same argparse types
as the flags (so ``lr = -1`` in a file is refused with the words of ``--lr -1``), become the
parser's defaults, and the command line is parsed again: a flag given on the command line wins over
the file. An unknown key is an error naming it and listing the valid ones.

The resolved config (every option after the file and the flags, with ``job``) is printed at the
start of a run and saved as ``config.json`` into the run's folders (``--checkpoint-dir`` and
``--logdir``, where the metrics of :mod:`ferrum.train.tracking` go) by
:func:`save_resolved_config`; it is itself a valid ``--config`` file, and ``ferrum evaluate`` /
``ferrum predict`` rebuild the model from it. JSON
rather than TOML because the standard library writes JSON and TOML has no null (``lr`` left to the
optimizer's default is ``None``).
"""

from __future__ import annotations

import argparse
import json
import os
import textwrap
from typing import Any, Iterable, NoReturn

__all__ = ["CONFIG_FILE", "BadInput", "OneLineParser", "load_config_file", "apply_config", "resolved_config",
           "format_config", "save_resolved_config", "read_run_config"]

#: the resolved config's file name inside a run folder
CONFIG_FILE = "config.json"
# parsed arguments that are not options of the recipe (argparse plumbing, this module's own flags)
_NOT_OPTIONS = {"run", "config", "debug", "job"}


class BadInput(ValueError):
    """Bad input on the command line: printed as one ``error:`` line, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse with one-line errors, ``<prog>: error: <what>; <fix>``, and exit status 2 (no
    usage block: the line names the option and points at ``--help``). The subcommand choice
    ``JOB`` of ``ferrum train`` reads as an unknown recipe."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("argument JOB: invalid choice"):
            bad = message.split("invalid choice: ", 1)[1].split(" (choose", 1)[0]
            message = f"unknown recipe {bad}; `ferrum train --list` shows the recipes"
        else:
            message += f"; see `{self.prog} --help`"
        self.exit(2, f"{self.prog}: error: {message}\n")


def load_config_file(path: str) -> dict:
    """The mapping in the TOML (``.toml``), YAML (``.yaml``/``.yml``) or JSON (``.json``) file
    ``path``. Raises :class:`BadInput` naming the file for a missing or malformed file."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".toml", ".yaml", ".yml", ".json"):
        raise BadInput(f"config file {path!r}: unknown format {ext or '(no extension)'!r}; use a .toml, "
                       ".yaml/.yml or .json file")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise BadInput(f"cannot read config file {path!r}: {e.strerror or e}; check the path") from None
    try:
        if ext == ".toml":
            import tomllib
            data = tomllib.loads(raw.decode("utf-8"))
        elif ext == ".json":
            data = json.loads(raw.decode("utf-8"))
        else:
            try:
                import yaml
            except ImportError:
                raise BadInput(f"config file {path!r}: reading YAML needs PyYAML (pip install pyyaml), "
                               "or write the file as TOML") from None
            data = yaml.safe_load(raw.decode("utf-8"))
    except BadInput:
        raise
    except Exception as e:  # tomllib.TOMLDecodeError, json.JSONDecodeError, yaml.YAMLError, UnicodeError
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise BadInput(f"config file {path!r} is not valid {ext[1:].upper()}: {first}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BadInput(f"config file {path!r}: expected a table of options, got a {type(data).__name__}")
    return data


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """The recipe's options by destination name (no help, no positionals)."""
    return {a.dest: a for a in parser._actions
            if a.option_strings and a.dest not in _NOT_OPTIONS and a.dest != argparse.SUPPRESS
            and not isinstance(a, argparse._HelpAction)}


def _convert(action: argparse.Action, key: str, value: Any) -> Any:
    """``value`` from a file for ``action``, checked and converted as the flag would be."""
    flag = action.option_strings[-1]
    if value is None:
        return None
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction,
                           argparse.BooleanOptionalAction)):
        if not isinstance(value, bool):
            raise BadInput(f"config key {key!r} ({flag}): expected true or false, got {value!r}")
        return value
    if isinstance(value, bool) or isinstance(value, (dict,)):
        raise BadInput(f"config key {key!r} ({flag}): expected a value like the flag's, got {value!r}")
    text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    try:
        out = action.type(text) if action.type is not None else text
    except (argparse.ArgumentTypeError, ValueError, TypeError) as e:
        raise BadInput(f"config key {key!r} ({flag}): {e}") from None
    if action.choices is not None and out not in action.choices:
        raise BadInput(f"config key {key!r} ({flag}): {out!r} is not one of "
                       f"{', '.join(map(str, action.choices))}")
    return out


def apply_config(parser: argparse.ArgumentParser, job: str, data: dict, path: str = "config") -> dict:
    """Checks the options in ``data`` against the recipe ``parser`` and makes them its defaults (so
    flags parsed afterwards win); returns them converted. :class:`BadInput` for an unknown key, a
    bad value, or a ``job`` key naming another recipe."""
    options = _options(parser)
    converted = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name == "job":
            if value != job:
                raise BadInput(f"config file {path!r} is for the recipe {value!r}, not {job!r}; run "
                               f"`ferrum train {value} --config {path}` or remove its job key")
            continue
        if name not in options:
            valid = ", ".join(sorted(options))
            raise BadInput(f"config file {path!r}: unknown key {key!r} for {job}; valid keys: {valid}")
        if value is not None:
            converted[name] = _convert(options[name], str(key), value)
    parser.set_defaults(**converted)
    return converted


def resolved_config(args: argparse.Namespace) -> dict:
    """The run's options after the file and the flags, with ``job`` first: JSON-ready (tuples as
    lists)."""
    out: dict[str, Any] = {"job": args.job}
    for k, v in sorted(vars(args).items()):
        if k in _NOT_OPTIONS or callable(v):
            continue
        out[k] = list(v) if isinstance(v, tuple) else v
    return out


def format_config(config: dict, width: int = 110) -> str:
    """``config: job=mnist-mlp batch_size=128 ...`` wrapped to ``width`` columns."""
    def show(v: Any) -> str:  # strings quoted only where they would be unreadable bare
        return json.dumps(v) if isinstance(v, str) and (not v or " " in v or not v.isprintable()) else str(v)

    text = " ".join(f"{k}={show(v)}" for k, v in config.items())
    return textwrap.fill(text, width=width, initial_indent="config: ", subsequent_indent="  ")


def save_resolved_config(args: argparse.Namespace | dict,
                         dirs: Iterable[str | os.PathLike | None]) -> list[str]:
    """Writes the resolved config (:func:`resolved_config` of ``args``, or ``args`` itself when a
    dict) as ``config.json`` into each folder of ``dirs`` that is not None, creating the folders;
    returns the paths written. :class:`BadInput` naming the folder when one cannot be written."""
    from .checkpoint import atomic_write

    config = args if isinstance(args, dict) else resolved_config(args)
    payload = (json.dumps(config, indent=1) + "\n").encode("utf-8")
    written = []
    for d in dirs:
        if d is None:
            continue
        d = os.fspath(d)
        try:
            os.makedirs(d, exist_ok=True)
            path = os.path.join(d, CONFIG_FILE)
            atomic_write(path, lambda f: f.write(payload))
        except OSError as e:
            why = e.strerror or str(e)
            raise BadInput(f"cannot write the run directory {d}: {why}; give --checkpoint-dir / --logdir "
                           "a writable folder") from None
        written.append(path)
    return written


def read_run_config(run_dir: str) -> dict:
    """The resolved config saved in ``run_dir`` (:class:`BadInput` when the folder or its
    ``config.json`` is missing or unreadable)."""
    if not os.path.isdir(run_dir):
        raise BadInput(f"run folder {run_dir!r} not found; pass the --checkpoint-dir of a `ferrum train` run")
    path = os.path.join(run_dir, CONFIG_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except FileNotFoundError:
        raise BadInput(f"{run_dir!r} has no {CONFIG_FILE}: it is not the --checkpoint-dir of a `ferrum "
                       "train` run (train with --checkpoint-dir DIR, then evaluate DIR)") from None
    except (OSError, ValueError) as e:
        raise BadInput(f"cannot read {path!r}: {e}; it should be the config.json `ferrum train` "
                       "wrote") from None
    if not isinstance(config, dict) or not isinstance(config.get("job"), str):
        raise BadInput(f"{path!r} names no recipe (no \"job\" key); it should be the config.json "
                       "`ferrum train` wrote")
    return config
