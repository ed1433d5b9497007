"""Golden data for ldm4j's LyCORIS LoRA formats: LoCon (with lora_mid), LoHa (plain and CP), LoKr (full and
decomposed factors) and full-weight diffs, as ComfyUI applies them.

The reference is ComfyUI's comfy/lora.py calculate_weight (the diff, lora, lokr and loha patch types; read from a
file given as argv[2]; its cast_to_device and logging are stubbed) applied at strength 0.7 to weights of
sd1-tiny (argv[1]): a UNet Linear (attn1.to_q), two 3x3 convs (ResBlock in_layers.2), a 1x1 conv (proj_in) and
a text-encoder Linear (mlp.fc1). The LyCORIS files use kohya's module names and LyCORIS's tensor names (what
LyCORIS saves); their values are seeded random numbers. Writes one LoRA file per format and one file with the
merged weights per format into argv[3].

    /usr/bin/python3 scripts/reference/comfy_lycoris.py sd1-tiny/model.safetensors comfy_lora_excerpt.py OUT_DIR
"""
import importlib.util
import json
import logging
import os
import struct
import sys
import types

import torch

checkpoint, excerpt, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
spec = importlib.util.spec_from_file_location("comfy_lora_excerpt", excerpt)
comfy_lora = importlib.util.module_from_spec(spec)
spec.loader.exec_module(comfy_lora)
comfy_lora.logging = logging
comfy_lora.comfy = types.SimpleNamespace(model_management=types.SimpleNamespace(
    cast_to_device=lambda t, device, dtype, copy=False: t.to(dtype)))

# torch 1.13's kron views its inputs and fails on a non-contiguous one (the einsum of a CP factor); newer
# versions copy. The values are the same either way.
_kron = torch.kron
torch.kron = lambda a, b: _kron(a.contiguous(), b.contiguous())

DTYPES = {"F32": torch.float32, "F16": torch.float16, "I64": torch.int64}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        out[k] = torch.frombuffer(bytearray(data[b:e]), dtype=DTYPES[v["dtype"]]).reshape(v["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for k, t in tensors.items():
        b = t.contiguous().numpy().tobytes()
        header[k] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


base = read_safetensors(checkpoint)
UNET, TE = "model.diffusion_model.", "cond_stage_model.transformer."
L1 = UNET + "input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight"
C3 = UNET + "input_blocks.1.0.in_layers.2.weight"
C3B = UNET + "input_blocks.2.0.in_layers.2.weight"
P1 = UNET + "input_blocks.1.1.proj_in.weight"
T1 = TE + "text_model.encoder.layers.0.mlp.fc1.weight"


def kohya(key):
    prefix, rest = ("lora_unet_", key[len(UNET):]) if key.startswith(UNET) else ("lora_te_", key[len(TE):])
    return prefix + rest[: -len(".weight")].replace(".", "_")


g = torch.Generator().manual_seed(20261203)


def rnd(*shape, std=0.3):
    return torch.randn(shape, generator=g) * std


STRENGTH = 0.7
files = {}
# LoCon: a plain LoRA on a Linear and a 1x1 conv, a LoRA with a CP middle (lora_mid) on a 3x3 conv
files["locon"] = {
    L1: ("lora", {"lora_up.weight": rnd(32, 4), "lora_down.weight": rnd(4, 32), "alpha": torch.tensor(2.0)}),
    P1: ("lora", {"lora_up.weight": rnd(32, 4, 1, 1), "lora_down.weight": rnd(4, 32, 1, 1)}),
    C3: ("lora", {"lora_up.weight": rnd(32, 4, 1, 1), "lora_down.weight": rnd(4, 32, 1, 1),
                  "lora_mid.weight": rnd(4, 4, 3, 3), "alpha": torch.tensor(1.0)}),
}
# LoHa: plain on a Linear and a 3x3 conv, with CP (hada_t1, hada_t2) on another 3x3 conv; stored F16
files["loha"] = {
    T1: ("loha", {"hada_w1_a": rnd(64, 4), "hada_w1_b": rnd(4, 32), "hada_w2_a": rnd(64, 4), "hada_w2_b": rnd(4, 32),
                  "alpha": torch.tensor(3.0)}),
    C3: ("loha", {"hada_w1_a": rnd(32, 4), "hada_w1_b": rnd(4, 32 * 9), "hada_w2_a": rnd(32, 4),
                  "hada_w2_b": rnd(4, 32 * 9), "alpha": torch.tensor(1.0)}),
    C3B: ("loha", {"hada_w1_a": rnd(4, 32), "hada_w1_b": rnd(4, 32), "hada_t1": rnd(4, 4, 3, 3),
                   "hada_w2_a": rnd(4, 32), "hada_w2_b": rnd(4, 32), "hada_t2": rnd(4, 4, 3, 3),
                   "alpha": torch.tensor(2.0)}),
}
# LoKr: both factors full (alpha unused), a low-rank w1 with a full 4-D w2, a full w1 with a CP w2, a low-rank w2
files["lokr"] = {
    T1: ("lokr", {"lokr_w1": rnd(8, 4), "lokr_w2": rnd(8, 8), "alpha": torch.tensor(4.0)}),
    C3: ("lokr", {"lokr_w1_a": rnd(4, 2), "lokr_w1_b": rnd(2, 4), "lokr_w2": rnd(8, 8, 3, 3), "alpha": torch.tensor(1.0)}),
    C3B: ("lokr", {"lokr_w1": rnd(4, 4), "lokr_w2_a": rnd(2, 8), "lokr_w2_b": rnd(2, 8), "lokr_t2": rnd(2, 2, 3, 3),
                   "alpha": torch.tensor(1.5)}),
    L1: ("lokr", {"lokr_w1": rnd(4, 8), "lokr_w2_a": rnd(8, 3), "lokr_w2_b": rnd(3, 4)}),
}
# full-weight differences
files["diff"] = {
    L1: ("diff", {"diff": rnd(32, 32, std=0.05)}),
    C3: ("diff", {"diff": rnd(32, 32, 3, 3, std=0.05)}),
    T1: ("diff", {"diff": rnd(64, 32, std=0.05)}),
}


def patch(kind, t):
    g_ = t.get
    if kind == "diff":
        return (t["diff"],)
    if kind == "lora":
        return ("lora", (t["lora_up.weight"], t["lora_down.weight"], g_("alpha"), g_("lora_mid.weight"), None, None))
    if kind == "loha":
        return ("loha", (t["hada_w1_a"], t["hada_w1_b"], g_("alpha"), t["hada_w2_a"], t["hada_w2_b"], g_("hada_t1"),
                         g_("hada_t2"), None))
    return ("lokr", (g_("lokr_w1"), g_("lokr_w2"), g_("alpha"), g_("lokr_w1_a"), g_("lokr_w1_b"), g_("lokr_w2_a"),
                     g_("lokr_w2_b"), g_("lokr_t2"), None))


os.makedirs(out_dir, exist_ok=True)
for name, modules in files.items():
    dtype = torch.float16 if name == "loha" else torch.float32
    lora, merged = {}, {}
    for key, (kind, tensors) in modules.items():
        stored = {k: v.to(dtype) for k, v in tensors.items()}
        for k, v in stored.items():
            lora[kohya(key) + "." + k] = v
        # ComfyUI merges from the stored (possibly fp16) values, in float32
        upcast = {k: v.float() for k, v in stored.items()}
        merged[key] = comfy_lora.calculate_weight([(STRENGTH, patch(kind, upcast), 1.0, None, None)],
                                                   base[key].clone().float(), key)
    write_safetensors(os.path.join(out_dir, f"lycoris_{name}.safetensors"), lora)
    write_safetensors(os.path.join(out_dir, f"lycoris_{name}_merged.safetensors"), merged)
    print(name, len(modules), "modules")
