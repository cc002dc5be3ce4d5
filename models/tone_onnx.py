"""The int8 path: the fine-tuned tone network exported to ONNX and dynamically quantised for ONNX Runtime.

Built on first use from the loaded weights (a few seconds) and cached outside the repository, keyed by the
weights' digest, so the committed weights stay the single source. Needs ``onnxruntime`` and ``onnx``
(optional: ``pip install onnxruntime onnx``); ``commonground bench tone`` reports its agreement with fp32.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

CACHE_DIR = Path(tempfile.gettempdir()) / "commonground_onnx"


def export_int8(net: Any, digest: str, cache_dir: Path = CACHE_DIR) -> Path:
    """``tone-<digest>-int8.onnx`` under ``cache_dir``: exported once, then reused."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    cache_dir.mkdir(parents=True, exist_ok=True)
    int8 = cache_dir / f"tone-{digest}-int8.onnx"
    if int8.is_file():
        return int8
    fp32 = cache_dir / f"tone-{digest}-fp32.onnx"
    # A padded example batch, so that the traced graph keeps the attention-mask path.
    token = min(100, int(net.encoder.config.vocab_size) - 1)
    ids = torch.full((2, 8), token, dtype=torch.long)
    mask = torch.ones((2, 8), dtype=torch.long)
    mask[1, 5:] = 0
    net.eval()
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and deprecation notices about the legacy exporter
        torch.onnx.export(
            net,
            (ids, mask),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}},
            opset_version=17,
            dynamo=False,
        )
    tmp = int8.with_suffix(".tmp.onnx")
    quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    tmp.replace(int8)
    fp32.unlink(missing_ok=True)
    return int8


class OnnxInt8:
    """``forward(input_ids, attention_mask) -> probabilities``, like the torch path of ``MiniLMTone``."""

    def __init__(self, net: Any, digest: str, cache_dir: Path = CACHE_DIR) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ImportError(
                "The int8 tone path needs ONNX Runtime: `pip install onnxruntime onnx`, or use the default "
                "model name 'minilm-tone' (fp32 torch)."
            ) from exc
        import torch

        self.path = export_int8(net, digest, cache_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    def forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        (logits,) = self.session.run(["logits"], {"input_ids": input_ids, "attention_mask": attention_mask})
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(logits, -50.0, 50.0))), dtype=np.float32)
