"""Load YAML content files (personas, rubrics) safely, with errors that name file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from app.interview.errors import ContentError

MAX_CONTENT_BYTES = 256 * 1024
# libyaml's safe loader is about ten times faster and refuses the same Python tags.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

M = TypeVar("M", bound=BaseModel)


def describe_location(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as ``agenda[2].ask``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


_HINTS = {
    "missing": "field required",
    "extra_forbidden": "unknown field (check the spelling against the documented schema)",
}


def field_help(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """The schema's description of the field at ``loc``, to say what a missing field is for."""
    current: Any = model
    description = ""
    for part in loc:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(str(part)) if _is_model(current) else None
        if info is None:
            return ""
        description = info.description or ""
        current = next(
            (a for a in (info.annotation, *get_args(info.annotation)) if _is_model(a)), None
        )
    return description


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def format_validation_error(
    source: str, error: ValidationError, model: type[BaseModel] | None = None
) -> str:
    lines = []
    for item in error.errors():
        where = describe_location(tuple(item["loc"]))
        message = _HINTS.get(item["type"], item["msg"])
        if item["type"] == "missing" and model is not None:
            described = field_help(model, tuple(item["loc"]))
            message += f" ({described})" if described else ""
        if item["type"] == "literal_error":
            message = f"{item['msg']} (got {item.get('input')!r})"
        lines.append(f"{source}: {where}: {message}")
    return "\n".join(lines)


def read_yaml(path: Path, *, max_bytes: int = MAX_CONTENT_BYTES) -> dict[str, Any]:
    """Read one YAML mapping with the safe loader (no Python objects), within a size limit."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ContentError(f"{path}: cannot read file ({exc.strerror})") from exc
    if size > max_bytes:
        raise ContentError(f"{path}: file is {size} bytes; the limit is {max_bytes} bytes")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except UnicodeDecodeError as exc:
        raise ContentError(f"{path}: not UTF-8 text") from exc
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}" if mark else ""
        raise ContentError(
            f"{path}: invalid YAML{where}: {exc.problem}; content files are plain data, so tags "
            "that build Python objects (like !!python/object) are refused"
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ContentError(f"{path}: invalid YAML{where}: {problem}") from exc
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "an empty file"
        raise ContentError(f"{path}: expected a mapping of fields at the top level, got {kind}")
    return data


def parse_model(model: type[M], data: dict[str, Any], source: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ContentError(format_validation_error(source, exc, model)) from exc


def load_file(model: type[M], path: Path) -> M:
    item = parse_model(model, read_yaml(path), str(path))
    ident = getattr(item, "id", None)
    if ident is not None and ident != path.stem:
        raise ContentError(f"{path}: id: '{ident}' must match the file name '{path.stem}'")
    return item


def load_dir(model: type[M], folder: Path) -> tuple[dict[str, M], list[str]]:
    """Load every ``*.yaml`` in ``folder``. Returns the items by id and the error messages."""
    items: dict[str, M] = {}
    errors: list[str] = []
    if not folder.is_dir():
        return items, [f"{folder}: folder not found"]
    for path in sorted(folder.glob("*.yaml")):
        try:
            item = load_file(model, path)
        except ContentError as exc:
            errors.append(exc.message)
            continue
        items[str(getattr(item, "id", path.stem))] = item
    return items, errors
