#!/usr/bin/env python3
"""Extracts the 8 kHz branch of Silero VAD v5 (silero_vad.onnx from the PyPI package
`silero-vad` 5.1.2, MIT) into the flat little-endian f32 file that
crates/speech-model/ loads with include_bytes!.

Run once, by hand (needs `pip install onnx numpy`):
    pip download --no-deps silero-vad==5.1.2 && unzip silero_vad-5.1.2-py3-none-any.whl
    python3 scripts/silero/extract.py silero_vad/data/silero_vad.onnx crates/speech-model/silero_v5_8k.bin

Layout (the order crates/speech-model/src/weights.rs reads; shapes as in the ONNX graph):
    magic b"SIL8", u32 version 1, then for each tensor below its f32 values, row-major.
"""
import struct
import sys

import numpy as np
import onnx
from onnx import numpy_helper

ORDER = [
    ("stft.forward_basis_buffer", (130, 1, 128)),
    ("encoder.0.reparam_conv.weight", (128, 65, 3)),
    ("encoder.0.reparam_conv.bias", (128,)),
    ("encoder.1.reparam_conv.weight", (64, 128, 3)),
    ("encoder.1.reparam_conv.bias", (64,)),
    ("encoder.2.reparam_conv.weight", (64, 64, 3)),
    ("encoder.2.reparam_conv.bias", (64,)),
    ("encoder.3.reparam_conv.weight", (128, 64, 3)),
    ("encoder.3.reparam_conv.bias", (128,)),
    ("decoder.rnn.weight_ih", (512, 128)),
    ("decoder.rnn.weight_hh", (512, 128)),
    ("decoder.rnn.bias_ih", (512,)),
    ("decoder.rnn.bias_hh", (512,)),
    ("decoder.decoder.2.weight", (1, 128, 1)),
    ("decoder.decoder.2.bias", (1,)),
]


def branch_constants(path):
    """The Constant tensors of the If branch taken when sr != 16000 (the 8 kHz model)."""
    model = onnx.load(path)
    top_if = next(n for n in model.graph.node if n.op_type == "If")
    graph = next(a.g for a in top_if.attribute if a.name == "else_branch")
    out = {}
    for node in graph.node:
        if node.op_type != "Constant":
            continue
        name = node.output[0].split("Inline_0__", 1)[-1]
        out[name] = numpy_helper.to_array(node.attribute[0].t)
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    consts = branch_constants(src)
    blob = bytearray(b"SIL8" + struct.pack("<I", 1))
    for name, shape in ORDER:
        t = consts[name].astype("<f4")
        assert t.shape == shape, (name, t.shape, shape)
        blob += t.tobytes()
    with open(dst, "wb") as f:
        f.write(blob)
    print(f"{dst}: {len(blob)} bytes")


if __name__ == "__main__":
    main()
