#!/usr/bin/env python3
"""Reference speech probabilities of the original Silero VAD v5 model (onnxruntime, 8 kHz,
Silero's own streaming: 256-sample chunks with the previous 32 samples as context, state
carried) for the clips named on the command line. Writes `clip<TAB>chunk<TAB>probability`
rows to stdout; fixtures/screening-model/silero-reference.tsv is this output, and
src/screening/model_tests.rs checks the Rust forward pass against it.

Development only (`pip install onnxruntime numpy`):
    python3 scripts/silero/reference.py silero_vad/data/silero_vad.onnx CLIP.ul ... \
        > fixtures/screening-model/silero-reference.tsv
Clip names are written relative to the repository root.
"""
import audioop  # noqa: deprecated in 3.11, still the plain G.711 table
import os
import sys

import numpy as np
import onnxruntime as ort

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def probabilities(sess, samples):
    state = np.zeros((2, 1, 128), np.float32)
    context = np.zeros(32, np.float32)
    out = []
    for k in range(len(samples) // 256):
        x = np.concatenate([context, samples[k * 256:(k + 1) * 256]])
        p, state = sess.run(None, {"input": x[None].astype(np.float32), "state": state,
                                   "sr": np.array(8000, dtype=np.int64)})
        out.append(float(p[0, 0]))
        context = x[-32:]
    return out


def main():
    sess = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
    print("clip\tchunk\tprobability")
    for path in sys.argv[2:]:
        raw = open(path, "rb").read()
        pcm = np.frombuffer(audioop.ulaw2lin(raw, 2), dtype="<i2").astype(np.float32) / 32768.0
        rel = os.path.relpath(os.path.abspath(path), ROOT)
        for k, p in enumerate(probabilities(sess, pcm)):
            print(f"{rel}\t{k}\t{p:.7f}")


if __name__ == "__main__":
    main()
