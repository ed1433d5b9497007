"""Golden images for ldm4j's Resample: Pillow's own Image.resize (python3-pil 9.4, libImaging/Resample.c) of
fixture images with LANCZOS, BICUBIC and BILINEAR, up and down, square and not, saved as PNG (lossless).

    /usr/bin/python3 scripts/reference/pil_resize.py shared/fixtures OUT_DIR
"""
import os
import sys

import PIL
from PIL import Image

fixtures, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
sources = {"lowres32": os.path.join(fixtures, "sd-x4-upscaler-tiny/lowres_32.png"),
           "photo64": os.path.join(fixtures, "sd1-tiny/photo_64.png")}
sizes = [(128, 128), (50, 70), (17, 9), (96, 40)]
filters = {"lanczos": Image.LANCZOS, "bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}
n = 0
for name, path in sources.items():
    image = Image.open(path).convert("RGB")
    for w, h in sizes:
        for fname, f in filters.items():
            image.resize((w, h), f).save(os.path.join(out, f"{name}_{fname}_{w}x{h}.png"))
            n += 1
print(f"Pillow {PIL.__version__}: wrote {n} images to {out}")
