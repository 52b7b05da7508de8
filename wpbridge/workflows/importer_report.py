"""`wpbridge import`'s report without holding it whole: its long sections (the plan, the writes, the conflicts: a
few per row of the file) are `Lazy` sequences, turned into JSON one item at a time as the report file is written
(`write_json`), byte for byte what `encoding.dumps(report, indent=1)` gives for the same report made of lists. A
million-row import so never holds the JSON of every step at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

from ..encoding import dumps


class Lazy:
    """A sequence made on demand, each time it is iterated (`make` is called again): nothing held between."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], Iterable[Any]]) -> None:
        self._make = make

    def __iter__(self) -> Iterator[Any]:
        return iter(self._make())


def materialized(value: Any) -> Any:
    """The report with its Lazy sections made lists (for `-o json`, `-o yaml`, `-o csv` and callers that index)."""
    if isinstance(value, Lazy):
        return list(value)
    if isinstance(value, dict):
        return {k: materialized(v) for k, v in value.items()}
    return value


def write_json(fh: IO[str], value: Any, level: int = 0) -> None:
    """`dumps(value, indent=1)` written to `fh` piece by piece: a dict or a Lazy one member at a time, anything
    else whole (a JSON text has no raw newline inside a string, so indenting its lines is safe)."""
    pad = " " * level
    if isinstance(value, Mapping) and value:
        fh.write("{")
        for i, (key, item) in enumerate(value.items()):
            fh.write(("," if i else "") + f"\n{pad} {dumps(key)}: ")
            write_json(fh, item, level + 1)
        fh.write(f"\n{pad}}}")
    elif isinstance(value, Lazy):
        empty = True
        for i, item in enumerate(value):
            fh.write(("," if i else "[") + f"\n{pad} ")
            write_json(fh, item, level + 1)
            empty = False
        fh.write("[]" if empty else f"\n{pad}]")
    else:
        fh.write(dumps(value, indent=1).replace("\n", "\n" + pad))


__all__ = ["Lazy", "materialized", "write_json"]
