"""Golden key table between the CompVis UNet layout and diffusers' UNet2DConditionModel, for sd1-tiny's UNet.

The reference is diffusers' own conversion, scripts/convert_diffusers_to_original_stable_diffusion.py at
11f1a54e (its tables and convert_unet_state_dict, read from a file given as argv[2]), which maps diffusers keys
to CompVis keys for SD 1.x layouts (2 ResBlocks per level; sd1-tiny's 3 levels are a subset of the 4 it
covers). Its tables are applied backwards here to name each CompVis key of the checkpoint (argv[1], header
only) in diffusers' layout, and the result is kept only because diffusers' own function maps every one of those
names back to exactly the key it came from.

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
json.dump({"source": "huggingface/diffusers 11f1a54e scripts/convert_diffusers_to_original_stable_diffusion.py",
           "checkpoint": "sd1-tiny/model.safetensors", "compvis_to_diffusers": table}, open(out, "w"), indent=0)
print(f"wrote {len(table)} keys to {out}")
