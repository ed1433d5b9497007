#!/usr/bin/env bash
# Times an x4 upscale with random weights of the full-size x4 upscaler (stable-diffusion-x4-upscaler's sizes:
# UNet model_channels 256, channel_mult 1,2,2,4, 8 heads, context 1024; f = 4 VAE with ch 128; OpenCLIP ViT-H
# text encoder), whole generate command: wall time, and resident memory by phase (load, sampling, decode),
# sampled from /proc every 0.2 s, beside the memory plan the command prints.
#   scripts/bench-x4-upscale.sh [STEPS] [CFG] [WORKDIR] [SIZE]
# SIZE is the input's side (default 512, a 2048 x 2048 output). LDM4J_RUN overrides the command that runs
# generate (default: ./ldm4j), e.g. "java -cp OLD.jar:target/lib/* dev.ldm4j.cli.Main" to measure an older build.
# The config is the tiny fixture's (../shared/fixtures/sd-x4-upscaler-tiny/config.yaml) with the sizes set to the
# released model's, so no model file is downloaded.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-2}"
cfg="${2:-9}"
work="${3:-/tmp/ldm4j-x4-bench}"
size="${4:-512}"
run="${LDM4J_RUN:-$here/ldm4j}"
fixtures="${LDM4J_FIXTURES:-$here/../shared/fixtures}"
mkdir -p "$work"
sed -e 's/model_channels: 32/model_channels: 256/' -e 's/channel_mult: \[1, 1, 2, 2\]/channel_mult: [1, 2, 2, 4]/' \
    -e 's/num_heads: 4/num_heads: 8/' -e 's/context_dim: 32/context_dim: 1024/' -e 's/ ch: 32/ ch: 128/' \
    -e 's/num_res_blocks: 1/num_res_blocks: 2/' -e '/text_model_config:/,$d' \
    "$fixtures/sd-x4-upscaler-tiny/config.yaml" > "$work/x4.yaml"
if [ ! -f "$work/x4.safetensors" ]; then
  "$here/ldm4j" bench --write-checkpoint "$work/x4.safetensors" --config "$work/x4.yaml"
fi
/usr/bin/python3 -c "import sys; from PIL import Image; s = int(sys.argv[3]); Image.open(sys.argv[1]).convert('RGB').resize((s, s), Image.LANCZOS).save(sys.argv[2])" \
  "$fixtures/sd1-tiny/photo_64.png" "$work/in$size.png" "$size"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"
start=$(date +%s.%N)
# each stderr line with the seconds since the start, so memory samples can be put in their phase
$run generate -m "$work/x4.safetensors" --config "$work/x4.yaml" -p "a photograph" \
  -i "$work/in$size.png" --steps "$steps" --cfg-scale "$cfg" --sampling-method euler -v -o "$work/out.png" \
  2> >(while IFS= read -r line; do printf '%.1f %s\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$line"; done \
       > "$work/generate.log") &
pid=$!
: > "$work/rss.log"
while kill -0 "$pid" 2> /dev/null; do
  # the JVM is the launcher's child (or the process itself); sample whichever java process is newest
  jpid=$(pgrep -n -f "dev.ldm4j.cli.Main generate|ldm4j.jar generate" || true)
  if [ -n "$jpid" ] && [ -r "/proc/$jpid/status" ]; then
    awk -v t="$(echo "$(date +%s.%N) - $start" | bc)" '/^VmRSS|^RssAnon|^RssFile/ {v[$1] = $2}
      END {if (v["VmRSS:"]) printf "%.1f %d %d %d\n", t, v["VmRSS:"], v["RssAnon:"], v["RssFile:"]}' \
      "/proc/$jpid/status" >> "$work/rss.log" 2> /dev/null || true
  fi
  sleep 0.2
done
wait "$pid" || { tail -5 "$work/generate.log"; exit 1; }
sleep 0.5
/usr/bin/python3 - "$work" "$steps" <<'PY'
import re, sys
work, steps = sys.argv[1], int(sys.argv[2])
log = [l.rstrip("\n").split(" ", 1) for l in open(f"{work}/generate.log") if " " in l]
log = [(float(t), m) for t, m in log]
first = next((t for t, m in log if "sampling step 1/" in m), None)
last = next((t for t, m in log if f"sampling step {steps}/{steps}" in m), None)
wrote = next((t for t, m in log if m.startswith("wrote")), log[-1][0])
for t, m in log:
    if "memory plan" in m:
        print(m.strip())
rss = [tuple(float(x) for x in l.split()) for l in open(f"{work}/rss.log") if l.strip()]
def peak(a, b, name):
    s = [r for r in rss if a <= r[0] < b]
    if s:
        top = max(s, key=lambda r: r[1])
        print(f"{name:<34} {b - a:8.1f} s   peak RSS {top[1] / 1e6:6.2f} GB (anon {top[2] / 1e6:.2f}, file {top[3] / 1e6:.2f})")
print(f"{'phase':<34} {'time':>10}")
peak(0, first or wrote, "start-up to the first step's end")
if first is not None and last is not None and steps > 1:
    peak(first, last, f"sampling steps 2..{steps}")
peak(last or first or 0, wrote + 0.01, "decode and PNG")
peak(0, wrote + 0.01, "whole command")
PY
