"""Intermediate values stored as data that cannot run code: Arrow IPC tables and JSON.

The pipeline's intermediates (validated returns, the episode history, unsuppressed
measures) were pickles, and loading a pickle runs whatever code it names: anyone who can
write to the output folder could have run code as the statistician. Here a value is a
folder holding ``value.json`` (its structure: the project's dataclasses, dicts, lists and
scalars) and one Arrow IPC file per table. Loading builds only the project's own
dataclasses (looked up by name under ``assets.`` and ``validation.``) and pandas tables;
nothing in the files is executed. Arrow IPC is also a format other machines and languages
read directly (the README's multi-machine plan).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from assets.common.atomic import atomic_directory

STRUCTURE_FILE = "value.json"
# Only the project's own dataclasses may be rebuilt from a stored value.
TRUSTED_MODULES = ("assets.", "validation.")


class IntermediateFormatError(TypeError):
    """A value that cannot be stored safely, or a stored value that is not ours."""


def _encode(value: Any, tables: list[pd.DataFrame]) -> Any:
    if value is None or isinstance(value, bool | str):
        return {"t": "v", "v": value}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int) and not isinstance(value, bool):
        return {"t": "v", "v": value}
    if isinstance(value, float):
        return {"t": "float", "v": repr(value)}
    if isinstance(value, pd.DataFrame):
        tables.append(value)
        return {"t": "frame", "i": len(tables) - 1, "objects": _object_columns(value)}
    if isinstance(value, pd.Series):
        tables.append(value.to_frame(name="value"))
        return {"t": "series", "i": len(tables) - 1, "name": _encode(value.name, tables)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        name = f"{cls.__module__}:{cls.__qualname__}"
        if not cls.__module__.startswith(TRUSTED_MODULES):
            raise IntermediateFormatError(f"{name} is not a project dataclass")
        fields = {f.name: _encode(getattr(value, f.name), tables) for f in dataclasses.fields(cls)}
        return {"t": "dataclass", "class": name, "fields": fields}
    if isinstance(value, dict):
        return {
            "t": "dict",
            "items": [[_encode(k, tables), _encode(v, tables)] for k, v in value.items()],
        }
    if isinstance(value, list | tuple | set | frozenset):
        kind = type(value).__name__ if type(value) in (list, tuple, set, frozenset) else "list"
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return {"t": kind, "items": [_encode(v, tables) for v in items]}
    if isinstance(value, pd.Timestamp):
        return {"t": "timestamp", "v": value.isoformat()}
    if isinstance(value, datetime):
        return {"t": "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {"t": "date", "v": value.isoformat()}
    if isinstance(value, Path):
        return {"t": "path", "v": str(value)}
    raise IntermediateFormatError(f"cannot store a {type(value).__name__} safely")


def _trusted_class(name: str) -> type:
    module, _, qualname = name.partition(":")
    if not module.startswith(TRUSTED_MODULES):
        raise IntermediateFormatError(f"stored value names {name}, not a project dataclass")
    cls: Any = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise IntermediateFormatError(f"stored value names {name}, which is not a dataclass")
    return cls


def _decode(node: dict, tables: list[pd.DataFrame]) -> Any:
    kind = node["t"]
    if kind == "v":
        return node["v"]
    if kind == "float":
        return float(node["v"])
    if kind == "frame":
        return tables[node["i"]]
    if kind == "series":
        series = tables[node["i"]]["value"]
        series.name = _decode(node["name"], tables)
        return series
    if kind == "dataclass":
        cls = _trusted_class(node["class"])
        obj = object.__new__(cls)
        for name, sub in node["fields"].items():
            object.__setattr__(obj, name, _decode(sub, tables))
        return obj
    if kind == "dict":
        return {_hashable(_decode(k, tables)): _decode(v, tables) for k, v in node["items"]}
    if kind in ("list", "tuple", "set", "frozenset"):
        items = [_decode(v, tables) for v in node["items"]]
        return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[kind](items)
    if kind == "timestamp":
        return pd.Timestamp(node["v"])
    if kind == "datetime":
        return datetime.fromisoformat(node["v"])
    if kind == "date":
        return date.fromisoformat(node["v"])
    if kind == "path":
        return Path(node["v"])
    raise IntermediateFormatError(f"unknown stored kind {kind!r}")


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _object_columns(frame: pd.DataFrame) -> list[int]:
    """Positions of object-dtype columns: Arrow stores them as typed columns with nulls, so
    their dtype and their two kinds of missing value (None and NaN) are restored on read."""
    return [
        i
        for i, dtype in enumerate(frame.dtypes)
        if isinstance(dtype, np.dtype) and dtype.kind == "O"
    ]


def _nan_positions(frame: pd.DataFrame, objects: list[int]) -> pd.DataFrame:
    """Where each object column holds a float NaN (rather than None)."""
    out = {}
    for i in objects:
        values = frame.iloc[:, i].to_numpy(dtype=object)
        nulls = np.flatnonzero(pd.isna(values))
        mask = np.zeros(len(values), dtype=bool)
        mask[nulls] = [isinstance(v, float) for v in values[nulls]]
        out[str(i)] = mask
    return pd.DataFrame(out)


def _write_arrow(frame: pd.DataFrame, path: Path) -> None:
    try:
        table = pa.Table.from_pandas(frame, preserve_index=None)
    except (pa.ArrowException, TypeError, ValueError) as err:
        raise IntermediateFormatError(f"a table cannot be stored as Arrow: {err}") from err
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _read_arrow(path: Path) -> pd.DataFrame:
    with pa.memory_map(str(path), "r") as source:
        return pa.ipc.open_file(source).read_all().to_pandas()


def _restore_objects(frame: pd.DataFrame, objects: list[int], nans: pd.DataFrame) -> None:
    for i in objects:
        values = frame.iloc[:, i].to_numpy(dtype=object, copy=True)
        values[pd.isna(values)] = None
        values[nans[str(i)].to_numpy(bool)] = np.nan
        frame.isetitem(i, pd.Series(values, index=frame.index, dtype=object))


def write_intermediate(folder: Path, value: Any) -> None:
    """Store ``value`` in ``folder`` (replaced atomically: a reader sees the old value or the
    new one, and a full disk leaves the old one).

    Not flushed to disk before the rename: intermediates are scratch that every run
    rebuilds, and flushing a national run's gigabyte of them cost up to 3.5 s. After a
    power cut one may be incomplete; ``read_intermediate`` then fails naming it (an Arrow
    IPC file ends with a footer that a cut-short file lacks) and a new run rewrites it."""
    tables: list[pd.DataFrame] = []
    structure = _encode(value, tables)
    with atomic_directory(Path(folder), replace=True, durable=False) as staging:
        for i, frame in enumerate(tables):
            _write_arrow(frame, staging / f"{i}.arrow")
            objects = _object_columns(frame)
            if objects:
                _write_arrow(_nan_positions(frame, objects), staging / f"{i}.nan.arrow")
        (staging / STRUCTURE_FILE).write_text(
            json.dumps(structure, sort_keys=True, allow_nan=False), encoding="utf-8"
        )


def read_intermediate(folder: Path) -> Any:
    """The value stored by ``write_intermediate``; builds only project dataclasses and tables."""
    folder = Path(folder)
    try:
        structure = json.loads((folder / STRUCTURE_FILE).read_text(encoding="utf-8"))
        count = len([p for p in folder.glob("*.arrow") if not p.name.endswith(".nan.arrow")])
        tables = [_read_arrow(folder / f"{i}.arrow") for i in range(count)]
        for node in _frame_nodes(structure):
            if node.get("objects"):
                nans = _read_arrow(folder / f"{node['i']}.nan.arrow")
                _restore_objects(tables[node["i"]], node["objects"], nans)
    except (ValueError, KeyError, IndexError, pa.ArrowException) as err:
        # json's and Arrow's errors for a cut-short or damaged file (ArrowInvalid is a
        # ValueError); a missing file is an OSError and is raised as it is.
        raise IntermediateFormatError(
            f"{folder}: stored intermediate is incomplete or damaged ({err}); run the job "
            "again to rebuild it"
        ) from err
    return _decode(structure, tables)


def _frame_nodes(node: Any) -> list[dict]:
    if isinstance(node, dict):
        found = [node] if node.get("t") == "frame" else []
        for value in node.values():
            found += _frame_nodes(value)
        return found
    if isinstance(node, list):
        return [n for value in node for n in _frame_nodes(value)]
    return []


def is_stored(folder: Path) -> bool:
    return (Path(folder) / STRUCTURE_FILE).is_file()
