"""The JSON tensor encoding shared by the PyTorch fixture generators (packages/*/test/fixtures).

{"shape": [...], "dtype": "float64"|"float32"|"int32"|"bool", "data": [flat row-major values]}:
bool as 0/1, every integer dtype as int32 (Koubai's index dtype), NaN/inf as the strings
"nan"/"inf"/"-inf" (JSON has no literals for them). None encodes as None.
"""

import math

import torch


def num(v):
    """A JSON-safe number: non-finite floats become strings."""
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
    return v


def enc(t):
    if t is None:
        return None
    t = t.detach()
    flat = t.reshape(-1).tolist()
    if t.dtype == torch.bool:
        dtype, data = "bool", [int(v) for v in flat]
    elif t.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        dtype, data = "int32", [int(v) for v in flat]
    elif t.dtype == torch.float64:
        dtype, data = "float64", [num(float(v)) for v in flat]
    elif t.dtype == torch.float32:
        dtype, data = "float32", [num(float(v)) for v in flat]
    else:
        raise TypeError(t.dtype)
    return {"shape": list(t.shape), "dtype": dtype, "data": data}
