#!/usr/bin/env bash
# fetch-emoji-dataset.sh [OUT_DIR] — builds ldm4j's emoji text-to-image dataset.
#
# Source: the npm package emoji-datasource-google@16.0.0 (Noto Emoji images, Apache License 2.0; the
# emoji.json metadata of iamcal/emoji-data, MIT), fetched with `npm pack` into a temporary folder and checked
# against its pinned SHA-1. Nothing else is downloaded.
#
# Output (OUT_DIR, default data/emoji in the repository, git-ignored), the kohya / AUTOMATIC1111 convention
# that dev.ldm4j.data.Dataset reads:
#   <image>.png   every 64x64 RGBA PNG of img/google/64 (base emoji and skin-tone variants; 3786 in 16.0.0)
#   <image>.txt   its caption: "<name>[, <skin tone>...], <short names>..., <category>, <subcategory>",
#                 lower-case, '_' and '-' in short names and subcategories read as spaces, no repeats, e.g.
#                 "waving hand, medium skin tone, wave, people & body, hand fingers open"
#   split.txt     the held-out evaluation files (about 5%), one per line; lines starting with '#' are comments
#   SOURCE.md     where the files come from, their licences, the counts
#
# The held-out rule (the same as dev.ldm4j.data.HeldOut.isHeldOut): a name is held out when the first
# four bytes of the SHA-256 of its UTF-8 bytes, as a big-endian unsigned integer, are < 5 modulo 100:
#   h=$(printf %s "$NAME" | sha256sum | cut -c1-8); [ $(( 16#$h % 100 )) -lt 5 ] && echo held out
# Here NAME is not each file's own name but its group's: the smallest file name (byte order) among the files
# joined by these links: a skin-tone variant and its base emoji, an obsoleted emoji and the emoji that
# replaces it, and byte-identical images (a few flags share one). So near-identical images never sit on both
# sides of the split. Dataset.split() reads split.txt, so Java sees exactly this split.
#
# Idempotent: a folder this script already completed for the same package version is left as it is; one
# it made for another version is rebuilt; any other existing non-empty folder is refused. The folder is
# assembled next to OUT_DIR and moved into place, so an interrupted run leaves no half-made dataset.
set -euo pipefail

PKG=emoji-datasource-google
VERSION=16.0.0
PKG_SHA1=a80ac3e8106cbd4d8648ce758aa099e8827b6157
FORMAT=2
MARKER=.fetch-emoji-dataset

die() { echo "fetch-emoji-dataset: error: $*" >&2; exit 1; }

[ $# -le 1 ] || die "usage: $0 [OUT_DIR]"
command -v npm >/dev/null 2>&1 || die "npm is not installed; it is needed to fetch $PKG@$VERSION (install Node.js, which includes npm)"
command -v node >/dev/null 2>&1 || die "node is not installed (it comes with npm; install Node.js)"
command -v tar >/dev/null 2>&1 || die "tar is not installed"
command -v sha1sum >/dev/null 2>&1 || die "sha1sum is not installed (GNU coreutils)"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo/data/emoji}"
out="${out%/}"
[ -n "$out" ] || die "OUT_DIR must not be /"
stamp="source=$PKG@$VERSION format=$FORMAT"

if [ -e "$out" ]; then
    [ -d "$out" ] || die "$out exists and is not a directory"
    if [ -f "$out/$MARKER" ]; then
        if [ "$(head -n 1 "$out/$MARKER")" = "$stamp" ]; then
            want="$(sed -n 's/^images=//p' "$out/$MARKER")"
            have="$(find "$out" -maxdepth 1 -name '*.png' | wc -l)"
            if [ "$want" = "$have" ] && [ -f "$out/split.txt" ]; then
                echo "fetch-emoji-dataset: $out is up to date ($have images from $PKG@$VERSION)"
                exit 0
            fi
            echo "fetch-emoji-dataset: $out is incomplete ($have of $want images); rebuilding"
        else
            echo "fetch-emoji-dataset: $out was made from another version; rebuilding"
        fi
    elif [ -n "$(ls -A "$out")" ]; then
        die "$out exists, is not empty and was not made by this script; remove it or name another OUT_DIR"
    fi
fi

parent="$(dirname "$out")"
mkdir -p "$parent"
work="$(mktemp -d)"
stage="$(mktemp -d "$parent/.emoji-stage.XXXXXX")"
trap 'rm -rf "$work" "$stage"' EXIT

echo "fetch-emoji-dataset: npm pack $PKG@$VERSION"
# no update check: the package is the only thing fetched
tgz="$(cd "$work" && NPM_CONFIG_UPDATE_NOTIFIER=false npm pack --silent --ignore-scripts "$PKG@$VERSION" | tail -n 1)"
[ -f "$work/$tgz" ] || die "npm pack did not produce a tarball (got '$tgz')"
sha1="$(sha1sum "$work/$tgz" | cut -d ' ' -f 1)"
[ "$sha1" = "$PKG_SHA1" ] || die "$tgz has SHA-1 $sha1, expected $PKG_SHA1"
tar -xzf "$work/$tgz" -C "$work" package/emoji.json package/img/google/64 package/LICENSE package/README.md \
    || die "$tgz does not have the expected layout (package/emoji.json, package/img/google/64)"

cat > "$work/captions.js" <<'JS'
// Writes <image>.png + <image>.txt for every Google 64x64 image of emoji.json, and split.txt.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const [pkgDir, outDir] = process.argv.slice(2);
const emoji = JSON.parse(fs.readFileSync(path.join(pkgDir, 'emoji.json'), 'utf8'));
const images = path.join(pkgDir, 'img', 'google', '64');
const TONES = {
  '1F3FB': 'light skin tone', '1F3FC': 'medium-light skin tone', '1F3FD': 'medium skin tone',
  '1F3FE': 'medium-dark skin tone', '1F3FF': 'dark skin tone',
};
const byUnified = new Map(emoji.map(e => [e.unified, e]));
const words = s => s.replace(/[_-]+/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase();
const heldOut = name =>
  crypto.createHash('sha256').update(name, 'utf8').digest().readUInt32BE(0) % 100 < 5;

function caption(e, tones) {
  const parts = [(e.name || e.short_name).toLowerCase(), ...tones,
    ...(e.short_names || []).map(words), (e.category || '').toLowerCase(), words(e.subcategory || '')];
  return [...new Set(parts.filter(p => p.length > 0))].join(', ');
}

// union-find over image names: the groups that must stay on one side of the split
const parent = new Map();
const find = a => {
  while (parent.get(a) !== a) { parent.set(a, parent.get(parent.get(a))); a = parent.get(a); }
  return a;
};
const join = (a, b) => { const ra = find(a), rb = find(b); if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb); };

const written = new Set();
const missing = [];
const byContent = new Map();
let variants = 0;
function add(image, hasImage, text, related) {
  const src = path.join(images, image);
  if (!hasImage || !fs.existsSync(src)) { missing.push(image); return; }
  if (written.has(image)) throw new Error('two emoji share the image ' + image);
  written.add(image);
  const bytes = fs.readFileSync(src);
  fs.writeFileSync(path.join(outDir, image), bytes);
  fs.writeFileSync(path.join(outDir, image.replace(/\.png$/, '.txt')), text + '\n', 'utf8');
  parent.set(image, image);
  const digest = crypto.createHash('sha256').update(bytes).digest('hex');
  if (byContent.has(digest)) join(image, byContent.get(digest)); else byContent.set(digest, image);
  if (related !== image && fs.existsSync(path.join(images, related))) {
    if (!parent.has(related)) parent.set(related, related);
    join(image, related);
  }
}

for (const e of emoji) {
  const group = ((e.obsoleted_by && byUnified.get(e.obsoleted_by)) || e).image;
  add(e.image, e.has_img_google, caption(e, []), group);
  for (const [key, v] of Object.entries(e.skin_variations || {})) {
    const tones = [...new Set(key.split('-').map(k => {
      if (!TONES[k]) throw new Error('unknown skin tone ' + k + ' in ' + e.unified);
      return TONES[k];
    }))];
    add(v.image, v.has_img_google, caption(e, tones), group);
    variants++;
  }
}
const pngs = fs.readdirSync(images).filter(f => f.endsWith('.png'));
const unused = pngs.filter(f => !written.has(f));
if (unused.length) console.error('warning: ' + unused.length + ' images not in emoji.json: ' + unused.slice(0, 5));
if (missing.length) console.error('warning: ' + missing.length + ' emoji have no Google image: ' + missing.slice(0, 5));
const held = [...written].filter(f => heldOut(find(f))).sort();
fs.writeFileSync(path.join(outDir, 'split.txt'), [
  '# Held-out evaluation files of the emoji dataset (' + held.length + ' of ' + written.size + ').',
  '# A file is held out when the smallest file name of its group (skin-tone variants with their base emoji,',
  '# obsoleted emoji with their replacement, byte-identical images together) satisfies:',
  '# first 4 bytes of SHA-256(UTF-8 name), big-endian unsigned, mod 100 < 5.',
  '# Written by scripts/fetch-emoji-dataset.sh; read by dev.ldm4j.data.Dataset.split().',
  ...held, ''].join('\n'));
console.log(JSON.stringify({ images: written.size, base: written.size - variants, variants, heldOut: held.length }));
JS

echo "fetch-emoji-dataset: writing images and captions"
summary="$(node "$work/captions.js" "$work/package" "$stage")" || die "writing the captions failed"
images="$(node -e 'console.log(JSON.parse(process.argv[1]).images)' "$summary")"
held="$(node -e 'console.log(JSON.parse(process.argv[1]).heldOut)' "$summary")"
[ "$images" -gt 0 ] || die "no images were written"

cat > "$stage/SOURCE.md" <<MD
# ldm4j emoji dataset

Made by \`scripts/fetch-emoji-dataset.sh\` from the npm package \`$PKG@$VERSION\` (tarball SHA-1 \`$PKG_SHA1\`).

- Images: \`img/google/64/*.png\` of the package, Google's Noto Emoji, Apache License 2.0
  (https://github.com/googlefonts/noto-emoji). Metadata: \`emoji.json\` of iamcal/emoji-data, MIT licence.
- $images images (summary: $summary), 64x64 RGBA; captions in same-name \`.txt\` files.
- Held out for evaluation: $held files, listed in \`split.txt\` (rule in the script header and in that file).
MD
cp "$work/package/LICENSE" "$stage/LICENSE-emoji-data"
printf '%s\nimages=%s\n' "$stamp" "$images" > "$stage/$MARKER"

chmod 755 "$stage"
if [ -e "$out" ]; then
    old="$(mktemp -d "$parent/.emoji-old.XXXXXX")"
    mv "$out" "$old/"
    mv "$stage" "$out"
    rm -rf "$old"
else
    mv "$stage" "$out"
fi
echo "fetch-emoji-dataset: $images images ($held held out) in $out"
