"""Regenerate the checked-in Python code of Aegis' protos: ``python -m aegis.proto.generate``.

The generated modules are committed, so installing Aegis needs no protobuf compiler; the
plugin tests regenerate them into a temporary folder and fail if they differ from these.
Needs ``grpcio-tools`` (the ``test`` extra of the socket plugin brings it).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent
ROOT = PROTO_DIR.parents[1]
PROTOS = sorted(PROTO_DIR.glob("*.proto"))
#: Generated code is exempt from the repository's lint rules.
HEADER = "# ruff: noqa\n"


def generate(out: Path) -> list[Path]:
    """Compile every ``aegis/proto/*.proto`` into ``out`` (laid out like the repository); return the files."""
    from grpc_tools import protoc

    args = ["protoc", f"-I{ROOT}", f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}",
            *(str(p.relative_to(ROOT)) for p in PROTOS)]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed on {', '.join(p.name for p in PROTOS)}")
    files = sorted((out / PROTO_DIR.relative_to(ROOT)).glob("*_pb2*.py*"))
    for path in files:
        path.write_text(HEADER + path.read_text())
    return files


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for path in generate(Path(tmp)):
            target = PROTO_DIR / path.name
            target.write_text(path.read_text())
            print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
