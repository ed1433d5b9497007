"""Golden key tables between the CompVis layout and diffusers' UNet2DConditionModel and AutoencoderKL, for
sd1-tiny's UNet and VAE.

The reference is diffusers' own conversion, scripts/convert_diffusers_to_original_stable_diffusion.py at
11f1a54e (its tables and convert_unet_state_dict, read from a file given as argv[2]), which maps diffusers keys
to CompVis keys for SD 1.x layouts (UNet: 2 ResBlocks per level, sd1-tiny's 3 levels a subset of the 4 it
covers; VAE: 4 levels). Its tables are applied backwards here to name each CompVis key of the checkpoint
(argv[1], header only) in diffusers' layout, and the result is kept only because diffusers' own functions
(convert_unet_state_dict, convert_vae_state_dict) map every one of those names back to exactly the key it came
from. The VAE table has diffusers' older attention names (query, key, value, proj_attn), the ones that script
reads.

    /usr/bin/python3 scripts/reference/diffusers_unet_keys.py sd1-tiny/model.safetensors convert_excerpt.py OUT.json
"""
import importlib.util
import json
import struct
import sys

checkpoint, excerpt, out = sys.argv[1], sys.argv[2], sys.argv[3]
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
json.dump({"source": "huggingface/diffusers 11f1a54e scripts/convert_diffusers_to_original_stable_diffusion.py",
           "checkpoint": "sd1-tiny/model.safetensors", "compvis_to_diffusers": table,
           "vae_compvis_to_diffusers": vae_table}, open(out, "w"), indent=0)
print(f"wrote {len(table)} UNet and {len(vae_table)} VAE keys to {out}")
