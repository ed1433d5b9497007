"""Golden data for ldm4j's k-diffusion samplers that no shared fixture covers.

Runs crowsonkb/k-diffusion's own sampler functions (commit 4601bf0, k_diffusion/sampling.py and external.py,
loaded from a checkout given as argv[1]) on a synthetic eps model, float32 CPU, and writes the x_T, sigmas and
final latent of each to argv[2] as JSON. The model: eps = tanh(x_in) * (0.5 + t / 2000), wrapped in
DiscreteEpsDDPMDenoiser with SD's linear schedule (0.00085 .. 0.012, 1000 steps; alphas_cumprod in float32),
quantize=False. Noise: torch.manual_seed(seed); x_T = randn([1, 4, 8, 8]); the SDE samplers get a plain
Gaussian per step (noise_sampler = randn_like, as stable-diffusion.cpp and ComfyUI's GPU-free default do),
not the Brownian tree.

    /usr/bin/python3 scripts/reference/kdiffusion_samplers.py /path/to/k-diffusion OUT.json
"""
import json
import os
import sys

import torch

repo, out = sys.argv[1], sys.argv[2]

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kdiffusion_loader  # noqa: E402

pkg = kdiffusion_loader.load(repo)
sampling, external = pkg.sampling, pkg.external

betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
alphas_cumprod = torch.cumprod(1 - betas, dim=0).float()


class Eps(torch.nn.Module):
    def forward(self, x, t):
        return torch.tanh(x) * (0.5 + t / 2000)[:, None, None, None]


model = external.DiscreteEpsDDPMDenoiser(Eps(), alphas_cumprod, quantize=False)

SAMPLERS = {
    "lms": lambda x, s: sampling.sample_lms(model, x, s, disable=True),
    "dpm2": lambda x, s: sampling.sample_dpm_2(model, x, s, disable=True),
    "dpm2_a": lambda x, s: sampling.sample_dpm_2_ancestral(model, x, s, disable=True),
    "dpm++2s_a": lambda x, s: sampling.sample_dpmpp_2s_ancestral(model, x, s, disable=True),
    "dpm++2m_sde": lambda x, s: sampling.sample_dpmpp_2m_sde(
        model, x, s, disable=True, noise_sampler=lambda a, b: torch.randn_like(x)),
    "dpm++3m_sde": lambda x, s: sampling.sample_dpmpp_3m_sde(
        model, x, s, disable=True, noise_sampler=lambda a, b: torch.randn_like(x)),
}

cases = []
for seed, steps in ((11, 6), (2024, 9)):
    for name, run in SAMPLERS.items():
        torch.manual_seed(seed)
        x_t = torch.randn([1, 4, 8, 8])
        sigmas = model.get_sigmas(steps)
        with torch.no_grad():
            final = run(x_t * sigmas[0], sigmas)
        after = torch.randn([1]).item()  # the generator's next draw: tells how many draws the sampler made
        cases.append({"sampler": name, "seed": seed, "steps": steps, "x_T": x_t.flatten().tolist(),
                      "sigmas": sigmas.tolist(), "final": final.flatten().tolist(), "next_draw": after})
json.dump({"source": "crowsonkb/k-diffusion 4601bf0", "model": "eps = tanh(x_in) * (0.5 + t / 2000)",
           "cases": cases}, open(out, "w"))
print(f"wrote {len(cases)} cases to {out}")
