"""Golden data for ldm4j's AUTOMATIC1111 inpainting operations, made with the same library calls A1111 makes
(stable-diffusion-webui 1.9/1.10 modules/processing.py StableDiffusionProcessingImg2Img.init, modules/masking.py
fill, apply_overlay), and the latent upscale of its hires fix ("Latent": torch.nn.functional.interpolate,
bilinear, antialias False). Needs Debian's python3-opencv (4.6) and python3-pil (9.4), torch 1.13.

    /usr/bin/python3 scripts/reference/a1111_masks.py shared/fixtures OUT_DIR

Writes: mask_<name>.png (the input masks), blur_<name>_<r>.png (cv2.GaussianBlur of the mask along x then y,
kernel 2 * int(2.5 r + 0.5) + 1, as A1111's mask_blur_x / mask_blur_y), fill_<name>_<r>.png (masking.fill of
the photo with the blurred mask), overlay_<name>_<r>.png (the kept area of the photo composited over a second
image through the overlay mask clip(2 * blurred)), and latent_up_<h>x<w>.f32 (raw little-endian float32 of
interpolate(torch.manual_seed(0); torch.randn(1, 4, 8, 8)) to h x w).
"""
import os
import sys

import cv2
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter, ImageOps

fixtures, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def a1111_blur(mask, r):  # StableDiffusionProcessingImg2Img.init, mask_blur_x == mask_blur_y == r
    k = 2 * int(2.5 * r + 0.5) + 1
    m = cv2.GaussianBlur(np.array(mask), (k, 1), r)
    m = cv2.GaussianBlur(np.array(Image.fromarray(m)), (1, k), r)
    return Image.fromarray(m)


def a1111_fill(image, mask):  # modules/masking.py fill (1.9)
    image_mod = Image.new('RGBA', (image.width, image.height))
    image_masked = Image.new('RGBa', (image.width, image.height))
    image_masked.paste(image.convert("RGBA").convert("RGBa"), mask=ImageOps.invert(mask.convert('L')))
    image_masked = image_masked.convert('RGBa')
    for radius, repeats in [(256, 1), (64, 1), (16, 2), (4, 4), (2, 2), (0, 1)]:
        blurred = image_masked.filter(ImageFilter.GaussianBlur(radius)).convert('RGBA')
        for _ in range(repeats):
            image_mod.alpha_composite(blurred)
    return image_mod.convert("RGB")


def a1111_overlay(generated, original, overlay_mask):  # init's overlay_images + apply_overlay, no crop
    image_masked = Image.new('RGBa', (original.width, original.height))
    image_masked.paste(original.convert("RGBA").convert("RGBa"), mask=ImageOps.invert(overlay_mask.convert('L')))
    overlay = image_masked.convert('RGBA')
    image = generated.convert('RGBA')
    image.alpha_composite(overlay)
    return image.convert('RGB')


photo = Image.open(os.path.join(fixtures, "sd1-tiny/photo_64.png")).convert("RGB")
other = Image.open(os.path.join(fixtures, "sd1-tiny-inpaint/init_64.png")).convert("RGB")
masks = {"fixture": Image.open(os.path.join(fixtures, "sd1-tiny/mask_64.png")).convert("L")}
drawn = Image.new("L", (64, 64), 0)
d = ImageDraw.Draw(drawn)
d.rectangle((5, 40, 30, 60), fill=255)
d.ellipse((30, 4, 58, 30), fill=200)
d.line((0, 0, 63, 35), fill=90, width=3)
masks["drawn"] = drawn
edge = Image.new("L", (48, 40), 0)
ImageDraw.Draw(edge).rectangle((0, 0, 47, 9), fill=255)  # an outpainting band at the top edge
masks["edge"] = edge
n = 0
for name, mask in masks.items():
    mask.save(os.path.join(out, f"mask_{name}.png"))
    for r in (1, 4, 7):
        blurred = a1111_blur(mask, r)
        blurred.save(os.path.join(out, f"blur_{name}_{r}.png"))
        base = photo if mask.size == photo.size else photo.resize(mask.size, Image.LANCZOS)
        a1111_fill(base, blurred).save(os.path.join(out, f"fill_{name}_{r}.png"))
        gen = other if mask.size == other.size else other.resize(mask.size, Image.LANCZOS)
        overlay_mask = Image.fromarray(np.clip(np.array(blurred).astype(np.float32) * 2, 0, 255).astype(np.uint8))
        a1111_overlay(gen, base, overlay_mask).save(os.path.join(out, f"overlay_{name}_{r}.png"))
        n += 3
torch.manual_seed(0)
latent = torch.randn(1, 4, 8, 8)
for h, w in ((16, 16), (12, 20)):
    up = torch.nn.functional.interpolate(latent, size=(h, w), mode="bilinear", antialias=False)
    up.numpy().astype("<f4").tofile(os.path.join(out, f"latent_up_{h}x{w}.f32"))
    n += 1
print(f"OpenCV {cv2.__version__}, Pillow {Image.__version__}, torch {torch.__version__}: wrote {n} files to {out}")
