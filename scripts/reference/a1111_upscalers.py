"""Golden images for ldm4j's image-space upscalers: AUTOMATIC1111's Upscaler.upscale (modules/upscaler.py, 1.9:
up to three do_upscale rounds, then LANCZOS to the size rounded down to a multiple of 8) for its Lanczos and
Nearest upscalers, and images.resize_image(0, im, w, h, upscaler_name) as the hires fix calls it, on Pillow 9.4.
The A1111 logic is restated here in a few lines (its module imports the whole web UI).

    /usr/bin/python3 scripts/reference/a1111_upscalers.py shared/fixtures OUT_DIR
"""
import os
import sys

from PIL import Image

fixtures, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
FILTERS = {"Lanczos": Image.LANCZOS, "Nearest": Image.NEAREST, "Bicubic": Image.BICUBIC}


def upscale(img, scale, name):  # Upscaler.upscale with do_upscale = img.resize(int(w * scale), int(h * scale))
    dest_w = int((img.width * scale) // 8 * 8)
    dest_h = int((img.height * scale) // 8 * 8)
    for _ in range(3):
        shape = (img.width, img.height)
        img = img.resize((int(img.width * scale), int(img.height * scale)), resample=FILTERS[name])
        if shape == (img.width, img.height):
            break
        if img.width >= dest_w and img.height >= dest_h:
            break
    if img.width != dest_w or img.height != dest_h:
        img = img.resize((int(dest_w), int(dest_h)), resample=Image.LANCZOS)
    return img


def resize_image0(im, w, h, name):  # images.resize_image(0, ...).resize with an upscaler name
    scale = max(w / im.width, h / im.height)
    if scale > 1.0:
        im = upscale(im, scale, name)
    if im.width != w or im.height != h:
        im = im.resize((w, h), resample=Image.LANCZOS)
    return im


photo = Image.open(os.path.join(fixtures, "sd1-tiny/photo_64.png")).convert("RGB")
small = photo.resize((50, 30), Image.LANCZOS)
small.save(os.path.join(out, "small_50x30.png"))
n = 0
for name in ("Lanczos", "Nearest", "Bicubic"):
    for label, img in (("photo", photo), ("small", small)):
        for scale in (2.0, 1.5, 2.3):
            upscale(img, scale, name).save(os.path.join(out, f"upscale_{label}_{name}_{scale}.png"))
            n += 1
    resize_image0(small, 120, 72, name).save(os.path.join(out, f"resize0_small_{name}_120x72.png"))
    resize_image0(photo, 100, 90, name).save(os.path.join(out, f"resize0_photo_{name}_100x90.png"))
    n += 2
print(f"Pillow {Image.__version__}: wrote {n} images to {out}")
