#!/usr/bin/env bash
# Times a 512x512 -> 2048x2048 x4 upscale with random weights of the full-size x4 upscaler
# (stable-diffusion-x4-upscaler's sizes: UNet model_channels 256, channel_mult 1,2,2,4, 8 heads, context 1024;
# f = 4 VAE with ch 128; OpenCLIP ViT-H text encoder), whole generate command, wall time and peak RSS.
#   scripts/bench-x4-upscale.sh [STEPS] [CFG] [WORKDIR]
# The config is the tiny fixture's (../shared/fixtures/sd-x4-upscaler-tiny/config.yaml) with the sizes set to the
# released model's, so no model file is downloaded.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-2}"
cfg="${2:-9}"
work="${3:-/tmp/ldm4j-x4-bench}"
fixtures="${LDM4J_FIXTURES:-$here/../shared/fixtures}"
mkdir -p "$work"
sed -e 's/model_channels: 32/model_channels: 256/' -e 's/channel_mult: \[1, 1, 2, 2\]/channel_mult: [1, 2, 2, 4]/' \
    -e 's/num_heads: 4/num_heads: 8/' -e 's/context_dim: 32/context_dim: 1024/' -e 's/ ch: 32/ ch: 128/' \
    -e 's/num_res_blocks: 1/num_res_blocks: 2/' -e '/text_model_config:/,$d' \
    "$fixtures/sd-x4-upscaler-tiny/config.yaml" > "$work/x4.yaml"
if [ ! -f "$work/x4.safetensors" ]; then
  "$here/ldm4j" bench --write-checkpoint "$work/x4.safetensors" --config "$work/x4.yaml"
fi
/usr/bin/python3 -c "import sys; from PIL import Image; Image.open(sys.argv[1]).convert('RGB').resize((512, 512), Image.LANCZOS).save(sys.argv[2])" \
  "$fixtures/sd1-tiny/photo_64.png" "$work/in512.png"
/usr/bin/time -v "$here/ldm4j" generate -m "$work/x4.safetensors" --config "$work/x4.yaml" -p "a photograph" \
  -i "$work/in512.png" --steps "$steps" --cfg-scale "$cfg" --sampling-method euler -v -o "$work/out2048.png" \
  2> "$work/generate.log" || { tail -5 "$work/generate.log"; exit 1; }
grep -E "memory plan|first sampling step|sampling step $steps/|wrote|Elapsed|Maximum resident" "$work/generate.log"
