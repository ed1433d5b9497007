"""Golden sigmas for ldm4j's schedulers sgm_uniform, simple, kl_optimal, ddim_uniform and align_your_steps.

Runs AUTOMATIC1111's own scheduler functions (modules/sd_schedulers.py at 02b0092d: sgm_uniform,
simple_scheduler, kl_optimal, ddim_scheduler, get_align_your_steps_sigmas with an SD 1.5 and an SDXL model) with k-diffusion's DiscreteEpsDDPMDenoiser (4601bf0) as the inner model, on SD's
linear schedule (0.00085 .. 0.012, 1000 steps; alphas_cumprod in float32), and writes the sigmas as JSON.

    /usr/bin/python3 scripts/reference/a1111_schedulers.py /path/to/k-diffusion /path/to/a1111 OUT.json

(/path/to/a1111 holds modules/sd_schedulers.py; its `modules.shared` import is stubbed: only align_your_steps reads
it, for shared.sd_model.is_sdxl.)
"""
import json
import os
import sys
import types

import torch

kdiff, a1111, out = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kdiffusion_loader  # noqa: E402

pkg = kdiffusion_loader.load(kdiff)
modules = types.ModuleType("modules")
modules.__path__ = []
modules.shared = types.ModuleType("modules.shared")
sys.modules["modules"] = modules
sys.modules["modules.shared"] = modules.shared
schedulers = kdiffusion_loader.load_file("modules.sd_schedulers", f"{a1111}/modules/sd_schedulers.py")

betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
alphas_cumprod = torch.cumprod(1 - betas, dim=0).float()
inner = pkg.external.DiscreteEpsDDPMDenoiser(torch.nn.Identity(), alphas_cumprod, quantize=False)
smin, smax = inner.sigma_min.item(), inner.sigma_max.item()

cases = []
for steps in (1, 2, 6, 20, 33):
    cases.append({"scheduler": "sgm_uniform", "steps": steps,
                  "sigmas": schedulers.sgm_uniform(steps, smin, smax, inner, "cpu").tolist()})
    cases.append({"scheduler": "simple", "steps": steps,
                  "sigmas": schedulers.simple_scheduler(steps, smin, smax, inner, "cpu").tolist()})
    cases.append({"scheduler": "kl_optimal", "steps": steps,
                  "sigmas": schedulers.kl_optimal(steps, smin, smax, "cpu").tolist()})
for steps in (1, 2, 6, 20, 30, 33, 999):
    cases.append({"scheduler": "ddim_uniform", "steps": steps,
                  "sigmas": schedulers.ddim_scheduler(steps, smin, smax, inner, "cpu").tolist()})
for family in ("sd1", "sdxl"):
    modules.shared.sd_model = types.SimpleNamespace(is_sdxl=family == "sdxl")
    for steps in (1, 2, 6, 10, 11, 20, 33):
        cases.append({"scheduler": "align_your_steps", "family": family, "steps": steps,
                      "sigmas": schedulers.get_align_your_steps_sigmas(steps, smin, smax, "cpu").tolist()})
json.dump({"source": "AUTOMATIC1111 02b0092d modules/sd_schedulers.py, k-diffusion 4601bf0", "cases": cases},
          open(out, "w"))
print(f"wrote {len(cases)} cases to {out}")
