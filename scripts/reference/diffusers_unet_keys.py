"""Golden key tables between the CompVis layout and diffusers' UNet2DConditionModel and AutoencoderKL, for
sd1-tiny's UNet and VAE, and between OpenCLIP's text tower and transformers' CLIP layout, for sdxl-tiny's
OpenCLIP tower (argv[4]).

The reference is diffusers' own conversion, scripts/convert_diffusers_to_original_stable_diffusion.py at
11f1a54e (its tables and convert_unet_state_dict, read from a file given as argv[2]), which maps diffusers keys
to CompVis keys for SD 1.x layouts (UNet: 2 ResBlocks per level, sd1-tiny's 3 levels a subset of the 4 it
covers; VAE: 4 levels). Its tables are applied backwards here to name each CompVis key of the checkpoint
(argv[1], header only) in diffusers' layout, and the result is kept only because diffusers' own functions
(convert_unet_state_dict, convert_vae_state_dict) map every one of those names back to exactly the key it came
from. The VAE table has diffusers' older attention names (query, key, value, proj_attn), the ones that script
reads. The OpenCLIP table is kept only because the script's convert_text_enc_state_dict_v20 fuses and renames
those transformers names back into exactly the OpenCLIP keys, shapes included (text_projection and logit_scale
are outside it: diffusers keeps the projection as a Linear, transposed, and drops logit_scale).

    /usr/bin/python3 scripts/reference/diffusers_unet_keys.py sd1-tiny/model.safetensors convert_excerpt.py OUT.json \
        sdxl-tiny/model.safetensors
"""
import importlib.util
import json
import struct
import sys

import torch

checkpoint, excerpt, out, sdxl = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
spec = importlib.util.spec_from_file_location("convert_excerpt", excerpt)
conv = importlib.util.module_from_spec(spec)
spec.loader.exec_module(conv)

with open(checkpoint, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
prefix = "model.diffusion_model."
compvis = [k[len(prefix):] for k in header if k.startswith(prefix)]


def to_diffusers(key):
    for sd, hf in conv.unet_conversion_map:
        if key == sd:
            return hf
    for sd, hf in conv.unet_conversion_map_layer:
        if key.startswith(sd):
            key = hf + key[len(sd):]
            if "resnets" in key:
                for sd_part, hf_part in conv.unet_conversion_map_resnet:
                    key = key.replace(sd_part, hf_part)
            return key
    raise SystemExit(f"no diffusers name for {key}")


table = {k: to_diffusers(k) for k in compvis}
back = conv.convert_unet_state_dict({hf: sd for sd, hf in table.items()})
for sd_key, value in back.items():
    if sd_key != value:
        raise SystemExit(f"diffusers maps {table[value]} to {sd_key}, not {value}")
vae_prefix = "first_stage_model."
vae = [k[len(vae_prefix):] for k in header if k.startswith(vae_prefix)]


def vae_to_diffusers(key):
    for sd, hf in conv.vae_conversion_map:
        if sd in key:
            key = key.replace(sd, hf)
    if "attentions" in key:
        for sd, hf in conv.vae_conversion_map_attn:
            key = key.replace("attentions.0." + sd, "attentions.0." + hf)
    return key


class Shape:  # stands in for a tensor: convert_vae_state_dict reshapes the attention weights
    def __init__(self, name):
        self.name = name
        self.shape = ()

    def reshape(self, *shape):
        return self


vae_table = {k: vae_to_diffusers(k) for k in vae}
vae_back = conv.convert_vae_state_dict({hf: Shape(sd) for sd, hf in vae_table.items()})
for sd_key, value in vae_back.items():
    if sd_key != value.name:
        raise SystemExit(f"diffusers maps {vae_table[value.name]} to {sd_key}, not {value.name}")
with open(sdxl, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    sdxl_header = json.loads(f.read(n))
oc_prefix = "conditioner.embedders.1.model."
openclip = {k[len(oc_prefix):]: v["shape"] for k, v in sdxl_header.items()
            if k.startswith(oc_prefix) and not k.endswith(("text_projection", "logit_scale"))}


def openclip_to_diffusers(key, shape):
    """(name, shape) pairs in transformers' layout: the script's table backwards, in_proj split in three."""
    m = re.match(r"transformer\.resblocks\.(\d+)\.attn\.in_proj_(weight|bias)$", key)
    if m:
        third = [shape[0] // 3] + shape[1:]
        return [(f"text_model.encoder.layers.{m.group(1)}.self_attn.{c}_proj.{m.group(2)}", third) for c in "qkv"]
    name = key
    for sd, hf in conv.textenc_conversion_lst:
        name = name.replace(sd, hf)
    return [(name[len("transformer."):], shape)]


import re  # noqa: E402
oc_table = {k: openclip_to_diffusers(k, s) for k, s in openclip.items()}
hf_dict = {"transformer." + hf: torch.zeros(shape) for pairs in oc_table.values() for hf, shape in pairs}
back = conv.convert_text_enc_state_dict_v20(hf_dict)
if sorted(back) != sorted(openclip) or any(list(back[k].shape) != openclip[k] for k in openclip):
    raise SystemExit("diffusers does not map the transformers names back to the OpenCLIP keys")
json.dump({"source": "huggingface/diffusers 11f1a54e scripts/convert_diffusers_to_original_stable_diffusion.py",
           "checkpoint": "sd1-tiny/model.safetensors", "compvis_to_diffusers": table,
           "vae_compvis_to_diffusers": vae_table,
           "openclip_checkpoint": "sdxl-tiny/model.safetensors, below conditioner.embedders.1.model.",
           "openclip_to_diffusers": {k: [hf for hf, _ in v] for k, v in oc_table.items()}}, open(out, "w"), indent=0)
print(f"wrote {len(table)} UNet, {len(vae_table)} VAE and {len(oc_table)} OpenCLIP keys to {out}")
