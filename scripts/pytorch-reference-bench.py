# The same-machine PyTorch reference for `ldm4j bench` (docs/benchmarks.md): the SD 1.5 UNet (859,520,964
# parameters) and VAE decoder with random weights, written here from the architecture of v1-inference.yaml,
# in plain PyTorch eager, attention computed as the CompVis code does (einsum, softmax; PyTorch 1.13 has no
# fused attention). Same stages, same GFLOP counts and min/median as `ldm4j bench`.
#
#   apt-get install python3-torch libopenblas0-pthread     # Debian 12: PyTorch 1.13.1 on OpenBLAS
#   /usr/bin/python3 scripts/pytorch-reference-bench.py SIZE REPEAT [unet] [decode] [bf16] [sdxl]
#
# bf16: the UNet's weights and activations in bfloat16 (as `ldm4j bench --precision bf16`); the VAE stays fp32.
# sdxl: the SDXL base UNet instead (sd_xl_base.yaml: 2,567,463,684 parameters; channel_mult [1, 2, 4],
# transformer depth [0, 2, 10] per level and 10 in the middle, 64 channels per head, linear projections,
# context 2048, label_emb on a 2816-wide vector), as `ldm4j bench --arch sdxl`; no GFLOP counts.
import sys, time, math, torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)

def gn(c, eps=1e-5):
    return nn.GroupNorm(32, c, eps=eps)

class ResBlock(nn.Module):
    def __init__(s, cin, cout, emb=1280):
        super().__init__()
        s.n1, s.c1 = gn(cin), nn.Conv2d(cin, cout, 3, padding=1)
        s.e = nn.Linear(emb, cout)
        s.n2, s.c2 = gn(cout), nn.Conv2d(cout, cout, 3, padding=1)
        s.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
    def forward(s, x, emb):
        h = s.c1(F.silu(s.n1(x)))
        h = h + s.e(F.silu(emb))[:, :, None, None]
        h = s.c2(F.silu(s.n2(h)))
        return s.skip(x) + h

class Attn(nn.Module):
    def __init__(s, q, ctx, heads, d):
        super().__init__()
        s.h, s.scale = heads, d ** -0.5
        s.q, s.k, s.v = nn.Linear(q, heads * d, bias=False), nn.Linear(ctx, heads * d, bias=False), nn.Linear(ctx, heads * d, bias=False)
        s.o = nn.Linear(heads * d, q)
    def forward(s, x, ctx=None):
        ctx = x if ctx is None else ctx
        b, n, _ = x.shape
        q, k, v = s.q(x), s.k(ctx), s.v(ctx)
        q, k, v = (t.reshape(b, t.shape[1], s.h, -1).permute(0, 2, 1, 3).reshape(b * s.h, t.shape[1], -1) for t in (q, k, v))
        sim = torch.einsum('bid,bjd->bij', q, k) * s.scale
        o = torch.einsum('bij,bjd->bid', sim.softmax(dim=-1), v)
        o = o.reshape(b, s.h, n, -1).permute(0, 2, 1, 3).reshape(b, n, -1)
        return s.o(o)

class Block(nn.Module):
    def __init__(s, c, heads, ctx_dim=768):
        super().__init__()
        d = c // heads
        s.n1, s.a1, s.n2, s.a2, s.n3 = nn.LayerNorm(c), Attn(c, c, heads, d), nn.LayerNorm(c), Attn(c, ctx_dim, heads, d), nn.LayerNorm(c)
        s.ff1, s.ff2 = nn.Linear(c, 8 * c), nn.Linear(4 * c, c)
    def forward(s, x, ctx):
        x = s.a1(s.n1(x)) + x
        x = s.a2(s.n2(x), ctx) + x
        h, g = s.ff1(s.n3(x)).chunk(2, dim=-1)
        return s.ff2(h * F.gelu(g)) + x

class ST(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.n, s.pi, s.b, s.po = gn(c, 1e-6), nn.Conv2d(c, c, 1), Block(c, 8), nn.Conv2d(c, c, 1)
    def forward(s, x, ctx):
        b, c, h, w = x.shape
        t = s.pi(s.n(x)).permute(0, 2, 3, 1).reshape(b, h * w, c)
        t = s.b(t, ctx)
        return s.po(t.reshape(b, h, w, c).permute(0, 3, 1, 2).contiguous()) + x

class LinearST(nn.Module):
    """SDXL's SpatialTransformer: linear proj_in/proj_out around `depth` blocks, 64 channels per head."""
    def __init__(s, c, depth, ctx_dim=2048):
        super().__init__()
        s.n, s.pi, s.po = gn(c, 1e-6), nn.Linear(c, c), nn.Linear(c, c)
        s.bs = nn.ModuleList([Block(c, c // 64, ctx_dim) for _ in range(depth)])
    def forward(s, x, ctx):
        b, c, h, w = x.shape
        t = s.pi(s.n(x).permute(0, 2, 3, 1).reshape(b, h * w, c))
        for blk in s.bs:
            t = blk(t, ctx)
        return s.po(t).reshape(b, h, w, c).permute(0, 3, 1, 2).contiguous() + x

class SdxlUNet(nn.Module):
    def __init__(s):
        super().__init__()
        s.t1, s.t2 = nn.Linear(320, 1280), nn.Linear(1280, 1280)
        s.l1, s.l2 = nn.Linear(2816, 1280), nn.Linear(1280, 1280)
        depth = [0, 2, 10]
        s.inp = nn.ModuleList([nn.ModuleList([nn.Conv2d(4, 320, 3, padding=1)])])
        skips, ch = [320], 320
        for lvl, mult in enumerate([1, 2, 4]):
            for _ in range(2):
                out = 320 * mult
                layers = [ResBlock(ch, out)] + ([LinearST(out, depth[lvl])] if depth[lvl] else [])
                s.inp.append(nn.ModuleList(layers)); ch = out; skips.append(ch)
            if lvl < 2:
                s.inp.append(nn.ModuleList([nn.Conv2d(ch, ch, 3, stride=2, padding=1)])); skips.append(ch)
        s.mid = nn.ModuleList([ResBlock(ch, ch), LinearST(ch, 10), ResBlock(ch, ch)])
        s.out = nn.ModuleList()
        for lvl, mult in reversed(list(enumerate([1, 2, 4]))):
            for i in range(3):
                out = 320 * mult
                layers = [ResBlock(ch + skips.pop(), out)] + ([LinearST(out, depth[lvl])] if depth[lvl] else [])
                ch = out
                if lvl > 0 and i == 2:
                    layers.append(Up(ch))
                s.out.append(nn.ModuleList(layers))
        s.no, s.co = gn(320), nn.Conv2d(320, 4, 3, padding=1)
    def forward(s, x, t, ctx, y):
        half = 160
        f = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
        a = t[:, None].float() * f[None]
        emb = s.t2(F.silu(s.t1(torch.cat([torch.cos(a), torch.sin(a)], -1).to(x.dtype))))
        emb = emb + s.l2(F.silu(s.l1(y)))
        hs, h = [], x
        for layers in s.inp:
            h = UNet.run(layers, h, emb, ctx); hs.append(h)
        h = UNet.run(s.mid, h, emb, ctx)
        for layers in s.out:
            h = UNet.run(layers, torch.cat([h, hs.pop()], 1), emb, ctx)
        return s.co(F.silu(s.no(h)))

class Up(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.conv = nn.Conv2d(c, c, 3, padding=1)
    def forward(s, x):
        return s.conv(F.interpolate(x, scale_factor=2, mode="nearest"))

class UNet(nn.Module):
    def __init__(s):
        super().__init__()
        s.t1, s.t2 = nn.Linear(320, 1280), nn.Linear(1280, 1280)
        s.inp = nn.ModuleList()
        s.inp.append(nn.ModuleList([nn.Conv2d(4, 320, 3, padding=1)]))
        skips, ch = [320], 320
        for lvl, mult in enumerate([1, 2, 4, 4]):
            for _ in range(2):
                out = 320 * mult
                layers = [ResBlock(ch, out)] + ([ST(out)] if lvl < 3 else [])
                s.inp.append(nn.ModuleList(layers)); ch = out; skips.append(ch)
            if lvl < 3:
                s.inp.append(nn.ModuleList([nn.Conv2d(ch, ch, 3, stride=2, padding=1)])); skips.append(ch)
        s.mid = nn.ModuleList([ResBlock(ch, ch), ST(ch), ResBlock(ch, ch)])
        s.out = nn.ModuleList()
        for lvl, mult in reversed(list(enumerate([1, 2, 4, 4]))):
            for i in range(3):
                out = 320 * mult
                layers = [ResBlock(ch + skips.pop(), out)] + ([ST(out)] if lvl < 3 else [])
                ch = out
                if lvl > 0 and i == 2:
                    layers.append(Up(ch))
                s.out.append(nn.ModuleList(layers))
        s.no, s.co = gn(320), nn.Conv2d(320, 4, 3, padding=1)
    @staticmethod
    def run(layers, h, emb, ctx):
        for l in layers:
            if isinstance(l, ResBlock): h = l(h, emb)
            elif isinstance(l, (ST, LinearST)): h = l(h, ctx)
            else: h = l(h)
        return h
    def forward(s, x, t, ctx):
        half = 160
        f = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
        a = t[:, None].float() * f[None]
        emb = s.t2(F.silu(s.t1(torch.cat([torch.cos(a), torch.sin(a)], -1).to(x.dtype))))
        hs, h = [], x
        for layers in s.inp:
            h = s.run(layers, h, emb, ctx); hs.append(h)
        h = s.run(s.mid, h, emb, ctx)
        for layers in s.out:
            h = s.run(layers, torch.cat([h, hs.pop()], 1), emb, ctx)
        return s.co(F.silu(s.no(h)))

class VRes(nn.Module):
    def __init__(s, cin, cout):
        super().__init__()
        s.n1, s.c1, s.n2, s.c2 = gn(cin, 1e-6), nn.Conv2d(cin, cout, 3, padding=1), gn(cout, 1e-6), nn.Conv2d(cout, cout, 3, padding=1)
        s.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
    def forward(s, x):
        return s.skip(x) + s.c2(F.silu(s.n2(s.c1(F.silu(s.n1(x))))))

class VAttn(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.n, s.q, s.k, s.v, s.p = gn(c, 1e-6), nn.Conv2d(c, c, 1), nn.Conv2d(c, c, 1), nn.Conv2d(c, c, 1), nn.Conv2d(c, c, 1)
    def forward(s, x):
        h = s.n(x); b, c, hh, ww = h.shape
        q = s.q(h).reshape(b, c, hh * ww).permute(0, 2, 1)
        k = s.k(h).reshape(b, c, hh * ww)
        w_ = torch.bmm(q, k) * (c ** -0.5)
        w_ = F.softmax(w_, dim=2).permute(0, 2, 1)
        o = torch.bmm(s.v(h).reshape(b, c, hh * ww), w_).reshape(b, c, hh, ww)
        return x + s.p(o)

class Decoder(nn.Module):
    def __init__(s):
        super().__init__()
        s.pq, s.ci = nn.Conv2d(4, 4, 1), nn.Conv2d(4, 512, 3, padding=1)
        s.mid = nn.ModuleList([VRes(512, 512), VAttn(512), VRes(512, 512)])
        s.up = nn.ModuleList()
        ch = 512
        for lvl, mult in reversed(list(enumerate([1, 2, 4, 4]))):
            out = 128 * mult
            blocks = [VRes(ch, out), VRes(out, out), VRes(out, out)]; ch = out
            s.up.append(nn.ModuleList(blocks + ([Up(ch)] if lvl > 0 else [])))
        s.no, s.co = gn(128, 1e-6), nn.Conv2d(128, 3, 3, padding=1)
    def forward(s, z):
        h = s.ci(s.pq(z))
        for m in s.mid: h = m(h)
        for level in s.up:
            for m in level:
                h = m(h)
        return s.co(F.silu(s.no(h)))

def bench(name, size, repeat, fn, gflop):
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    ts.sort()
    rate = f"{gflop / ts[0]:6.0f} GFLOP/s" if gflop else ""
    print(f"{name:18s} {size:5d} min {ts[0]:8.3f} s  median {ts[len(ts)//2]:8.3f} s  {rate}", flush=True)

size, repeat = int(sys.argv[1]), int(sys.argv[2])
args = sys.argv[3:]
dtype = torch.bfloat16 if "bf16" in args else torch.float32
sdxl = "sdxl" in args
stages = [a for a in args if a not in ("bf16", "sdxl")] or ["unet", "decode"]
h = size // 8
px = (size / 512) ** 2
print("torch", torch.__version__, "threads", torch.get_num_threads(), "unet dtype", dtype, flush=True)
with torch.inference_mode():
    if "unet" in stages and sdxl:
        unet = SdxlUNet().eval().to(dtype)
        print("sdxl unet parameters", sum(p.numel() for p in unet.parameters()), flush=True)
        for b in (1, 2):
            x, t = torch.randn(b, 4, h, h).to(dtype), torch.full((b,), 500.0)
            c, y = torch.randn(b, 77, 2048).to(dtype), torch.randn(b, 2816).to(dtype)
            bench(f"unet_step_batch{b}", size, repeat, lambda: unet(x, t, c, y), 0)
        del unet
    elif "unet" in stages:
        unet = UNet().eval().to(dtype)
        print("unet parameters", sum(p.numel() for p in unet.parameters()), flush=True)
        for b in (1, 2):
            x, t, c = torch.randn(b, 4, h, h).to(dtype), torch.full((b,), 500.0), torch.randn(b, 77, 768).to(dtype)
            bench(f"unet_step_batch{b}", size, repeat, lambda: unet(x, t, c), 800 * b * px)
        del unet
    if "decode" in stages:
        dec = Decoder().eval()
        print("vae decoder parameters", sum(p.numel() for p in dec.parameters()), flush=True)
        z = torch.randn(1, 4, h, h)
        bench("vae_decode", size, repeat, lambda: dec(z), 2500 * px)
