"""Textual-inversion files for ldm4j's tests, written by PyTorch itself in each format AUTOMATIC1111 loads.

The vectors are rows of the tiny fixture models' own token-embedding tables (the rows of real words), so a prompt
that names the embedding must give exactly the conditioning of the prompt with those words: what
TextualInversionTest checks.

    /usr/bin/python3 scripts/reference/textual_inversion_files.py FIXTURES OUT_DIR

Writes, under OUT_DIR:
  sd1/a1111-apple.pt       A1111's own format (torch.save zip): string_to_param {"*": rows of "red apple"}
  sd1/legacy-cat.pt        the same format in PyTorch's legacy (pre-1.6) container: rows of "cat"
  sd1/concept.bin          a diffusers concept: {"<concept>": row of "dog"} (1-D)
  sd1/emb-params.safetensors  {"emb_params": rows of "big red dog"}
  sd1/wrong-width.safetensors an embedding 7 wide (skipped: the model's are 32)
  sd1/broken.pt            not a checkpoint (skipped with a warning)
  sd2/sd2-apple.safetensors   emb_params: rows of "red apple" from sd2-tiny
  sdxl/xl-apple.safetensors   clip_l / clip_g: rows of "red apple" from sdxl-tiny's two towers
"""
import json
import os
import struct
import sys

import torch

fixtures, out = sys.argv[1], sys.argv[2]
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
vocab = json.load(open(f"{fixtures}/tokenizer/vocab.json", encoding="utf-8"))


def ids(words):
    return [vocab[w + "</w>"] for w in words.split()]


def read_tensor(path, key):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        v = header[key]
        b, e = v["data_offsets"]
        f.seek(8 + n + b)
        data = f.read(e - b)
    return torch.frombuffer(bytearray(data), dtype=DTYPES[v["dtype"]]).reshape(v["shape"]).float()


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for k, t in tensors.items():
        b = t.contiguous().numpy().tobytes()
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def a1111(vec, name):
    return {"string_to_token": {"*": 265}, "string_to_param": {"*": vec.clone().requires_grad_(True)},
            "name": name, "step": 100, "sd_checkpoint": "0123456789", "sd_checkpoint_name": "sd1-tiny"}


for d in ("sd1", "sd2", "sdxl"):
    os.makedirs(f"{out}/{d}", exist_ok=True)

sd1 = read_tensor(f"{fixtures}/sd1-tiny/model.safetensors",
                  "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight")
torch.save(a1111(sd1[ids("red apple")], "a1111-apple"), f"{out}/sd1/a1111-apple.pt")
torch.save(a1111(sd1[ids("cat")], "legacy-cat"), f"{out}/sd1/legacy-cat.pt", _use_new_zipfile_serialization=False)
torch.save({"<concept>": sd1[ids("dog")[0]].clone()}, f"{out}/sd1/concept.bin")
write_safetensors(f"{out}/sd1/emb-params.safetensors", {"emb_params": sd1[ids("big red dog")]})
write_safetensors(f"{out}/sd1/wrong-width.safetensors", {"emb_params": torch.ones(1, 7)})
with open(f"{out}/sd1/broken.pt", "wb") as f:
    f.write(b"PK\x03\x04 this is not a checkpoint")

sd2 = read_tensor(f"{fixtures}/sd2-tiny/model.safetensors", "cond_stage_model.model.token_embedding.weight")
write_safetensors(f"{out}/sd2/sd2-apple.safetensors", {"emb_params": sd2[ids("red apple")]})

xl = f"{fixtures}/sdxl-tiny/model.safetensors"
clip_l = read_tensor(xl, "conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight")
clip_g = read_tensor(xl, "conditioner.embedders.1.model.token_embedding.weight")
write_safetensors(f"{out}/sdxl/xl-apple.safetensors",
                  {"clip_g": clip_g[ids("red apple")], "clip_l": clip_l[ids("red apple")]})
print("wrote", out)
