"""The checked-in code generated from aegis/proto/*.proto is what the compiler makes of them today."""

from __future__ import annotations

from aegis.proto import generate


def test_generated_code_matches_the_protos(tmp_path):
    generated = generate.generate(tmp_path)
    assert {"screening_pb2.py", "screening_pb2.pyi", "screening_pb2_grpc.py"} <= {p.name for p in generated}
    stale = [p.name for p in generated if p.read_text() != (generate.PROTO_DIR / p.name).read_text()]
    assert not stale, f"regenerate with `python -m aegis.proto.generate`: {stale} differ from the .proto"
