"""Golden data for ldm4j's samplers lcm, ipndm, ipndm_v, ddim_trailing, euler_cfg_pp and euler_a_cfg_pp, and
schedulers beta and lcm.

* lcm, ipndm, ipndm_v: ComfyUI's own functions (comfyanonymous/ComfyUI 02159d81 comfy/k_diffusion/sampling.py
  sample_lcm, sample_ipndm, sample_ipndm_v), read from a file given as argv[2] that holds them (with
  comfy/samplers.py beta_scheduler), on the synthetic eps model of kdiffusion_samplers.py: eps = tanh(x_in) *
  (0.5 + t / 2000) in k-diffusion's DiscreteEpsDDPMDenoiser (crowsonkb/k-diffusion 4601bf0, argv[1]), SD's
  linear schedule, quantize=False. Noise: torch.manual_seed(seed); x_T = randn([1, 4, 8, 8]); the samplers'
  draws are randn_like from the same generator.
* euler_cfg_pp, euler_a_cfg_pp: ComfyUI's sample_euler_cfg_pp / sample_euler_ancestral_cfg_pp (the version
  with sigma_to_half_log_snr; the same file holds them) with guidance at scale 1.5 between two synthetic eps
  models, cond = the model above and uncond = tanh(0.7 x_in) * (0.3 + t / 3000); ComfyUI's post-CFG hook
  hands the sampler the unconditional denoised prediction.
* ddim_trailing: k-diffusion's sample_euler_ancestral with eta (stable-diffusion.cpp runs ddim_trailing as
  Euler ancestral with the DDIM eta; in k-diffusion's variables DDIM's noise scale is sigma_up) on the simple
  scheduler's sigmas (table[-(1 + int(i * 1000 / steps))]). At eta 0 no noise is drawn (sd.cpp's and
  ldm4j's walk; k-diffusion would draw and multiply by 0).
* beta scheduler: ComfyUI's beta_scheduler (alpha = beta = 0.6; scipy's beta.ppf).
* lcm scheduler: diffusers' LCMScheduler.set_timesteps with original_inference_steps 50, written out:
  timesteps = (arange(1, 51) * 20 - 1)[::-1][floor(linspace(0, 50, steps, endpoint=False))], sigma = table[t].

    /usr/bin/python3 scripts/reference/comfy_reference.py /path/to/k-diffusion /path/to/comfy_excerpt.py OUT.json
"""
import functools
import json
import os
import sys
import types

import numpy
import torch

kdiff, excerpt, out = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kdiffusion_loader  # noqa: E402

pkg = kdiffusion_loader.load(kdiff)
comfy = kdiffusion_loader.load_file("comfy_excerpt", excerpt)
comfy.trange = lambda n, disable=None: range(n)


def never_drawn(x, seed=None):
    def draw(sigma, sigma_next):
        raise AssertionError("a sampler drew from the default noise sampler")
    return draw


comfy.default_noise_sampler = never_drawn  # every call that draws passes its own noise sampler
comfy.partial = functools.partial
comfy.to_d = pkg.sampling.to_d
comfy.get_ancestral_step = pkg.sampling.get_ancestral_step
comfy.sigma_to_half_log_snr = lambda sigma, model_sampling: sigma.log().neg()  # eps models (not CONST)
comfy.set_model_options_post_cfg_function = (
    lambda options, fn, disable_cfg1_optimization=False: {**options, "post_cfg": fn})

betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
alphas_cumprod = torch.cumprod(1 - betas, dim=0).float()


class Eps(torch.nn.Module):
    def forward(self, x, t):
        return torch.tanh(x) * (0.5 + t / 2000)[:, None, None, None]


model = pkg.external.DiscreteEpsDDPMDenoiser(Eps(), alphas_cumprod, quantize=False)
# what sample_lcm asks of ComfyUI's model wrapper: model_sampling.noise_scaling for an eps model
model_sampling = types.SimpleNamespace(noise_scaling=lambda sigma, noise, latent: latent + noise * sigma)
model.inner_model.model_patcher = types.SimpleNamespace(get_model_object=lambda name: model_sampling)


class Uncond(torch.nn.Module):
    def forward(self, x, t):
        return torch.tanh(0.7 * x) * (0.3 + t / 3000)[:, None, None, None]


uncond_model = pkg.external.DiscreteEpsDDPMDenoiser(Uncond(), alphas_cumprod, quantize=False)
CFG_SCALE = 1.5


class Cfg:
    """ComfyUI's CFG with its post-CFG hook: u + scale (c - u) on the denoised predictions."""
    inner_model = types.SimpleNamespace(predictor=None)

    def __call__(self, x, sigma, model_options=None):
        c, u = model(x, sigma), uncond_model(x, sigma)
        guided = u + CFG_SCALE * (c - u)
        hook = (model_options or {}).get("post_cfg")
        return hook({"denoised": guided, "uncond_denoised": u}) if hook else guided


def simple(steps):
    table = model.sigmas
    return torch.tensor([float(table[-(1 + int(i * len(table) / steps))]) for i in range(steps)] + [0.0])


def randn_like(x):
    return lambda a, b: torch.randn_like(x)


def no_noise(x):
    return lambda a, b: torch.zeros_like(x)


SAMPLERS = {
    "lcm": (lambda x, s: comfy.sample_lcm(model, x, s, noise_sampler=randn_like(x)), None),
    "ipndm": (lambda x, s: comfy.sample_ipndm(model, x, s), None),
    "ipndm_v": (lambda x, s: comfy.sample_ipndm_v(model, x, s), None),
    "euler_cfg_pp": (lambda x, s: comfy.sample_euler_cfg_pp(Cfg(), x, s), None),
    "euler_a_cfg_pp": (lambda x, s: comfy.sample_euler_ancestral_cfg_pp(Cfg(), x, s, noise_sampler=randn_like(x)),
                       None),
    "ddim_trailing": (lambda x, s: pkg.sampling.sample_euler_ancestral(model, x, s, eta=0.0, disable=True,
                                                                        noise_sampler=no_noise(x)), 0.0),
    "ddim_trailing eta 0.7": (lambda x, s: pkg.sampling.sample_euler_ancestral(
        model, x, s, eta=0.7, disable=True, noise_sampler=randn_like(x)), 0.7),
}

cases = []
for seed, steps in ((11, 6), (2024, 9)):
    for name, (run, eta) in SAMPLERS.items():
        torch.manual_seed(seed)
        x_t = torch.randn([1, 4, 8, 8])
        if name.startswith("ddim_trailing"):
            scheduler, sigmas = "simple", simple(steps)
        else:
            scheduler, sigmas = "discrete", model.get_sigmas(steps)
        with torch.no_grad():
            final = run(x_t * sigmas[0], sigmas)
        after = torch.randn([1]).item()  # the generator's next draw: tells how many draws the sampler made
        case = {"sampler": name.split(" ")[0], "scheduler": scheduler, "seed": seed, "steps": steps,
                "x_T": x_t.flatten().tolist(), "sigmas": sigmas.tolist(), "final": final.flatten().tolist(),
                "next_draw": after}
        if eta is not None:
            case["eta"] = eta
        if "cfg_pp" in name:
            case["cfg_scale"] = CFG_SCALE
        cases.append(case)

schedules = []
ms = types.SimpleNamespace(sigmas=model.sigmas)
for steps in (1, 2, 4, 8, 20, 33, 100):
    schedules.append({"scheduler": "beta", "steps": steps, "sigmas": comfy.beta_scheduler(ms, steps).tolist()})
for steps in (1, 2, 3, 4, 6, 8, 50):
    origin = (numpy.arange(1, 51) * 20 - 1)[::-1]
    ts = origin[numpy.floor(numpy.linspace(0, 50, num=steps, endpoint=False)).astype(numpy.int64)]
    schedules.append({"scheduler": "lcm", "steps": steps, "timesteps": ts.tolist(),
                      "sigmas": [float(model.sigmas[t]) for t in ts] + [0.0]})
json.dump({"source": "ComfyUI 02159d81, k-diffusion 4601bf0, diffusers LCMScheduler (formula)",
           "model": "eps = tanh(x_in) * (0.5 + t / 2000)", "cases": cases, "schedules": schedules},
          open(out, "w"))
print(f"wrote {len(cases)} sampler cases and {len(schedules)} schedules to {out}")
