"""Golden data for ldm4j's tcd sampler: diffusers' own TCDScheduler (huggingface/diffusers 0378974c,
src/diffusers/schedulers/scheduling_tcd.py: set_timesteps and step), read from a file given as argv[1], its
diffusers imports stubbed (config registration, logging, randn_tensor = torch.randn from the given generator).

The model is the synthetic eps model of kdiffusion_samplers.py, eps = tanh(x_t) * (0.5 + t / 2000), on SD's
linear schedule with alphas_cumprod built in float64 and stored as float32 (replacing the scheduler's float32
cumprod). Noise: torch.manual_seed(seed); x_T = randn([1, 4, 8, 8]); the run starts from the latent a
k-diffusion sampler starts from, x_T * sigma0, in DDPM's variables: x_T * sigma0 / sqrt(1 + sigma0^2). The
scheduler's noise comes from the same global generator. The timesteps are TCD's default (LCM's 50-step
schedule), which is ldm4j's lcm scheduler. The final sample is in the same variables in both.

    /usr/bin/python3 scripts/reference/diffusers_tcd.py /path/to/scheduling_tcd.py OUT.json
"""
import dataclasses
import functools
import importlib.util
import inspect
import json
import logging
import sys
import types

import torch

excerpt, out = sys.argv[1], sys.argv[2]


def stub(name, **attrs):
    module = types.ModuleType(name)
    module.__path__ = []
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def register_to_config(init):
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        bound = inspect.signature(init).bind(self, *args, **kwargs)
        bound.apply_defaults()
        self.config = types.SimpleNamespace(**{k: v for k, v in bound.arguments.items() if k != "self"})
        init(self, *args, **kwargs)
    return wrapper


stub("diffusers")
stub("diffusers.configuration_utils", ConfigMixin=object, register_to_config=register_to_config)
stub("diffusers.schedulers")
stub("diffusers.schedulers.scheduling_utils", SchedulerMixin=type("SchedulerMixin", (), {}))
stub("diffusers.utils", BaseOutput=object, logging=types.SimpleNamespace(get_logger=logging.getLogger))
stub("diffusers.utils.torch_utils",
     randn_tensor=lambda shape, generator=None, device=None, dtype=None: torch.randn(shape, generator=generator,
                                                                                      dtype=dtype))
spec = importlib.util.spec_from_file_location("diffusers.schedulers.scheduling_tcd", excerpt)
tcd = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = tcd
spec.loader.exec_module(tcd)

betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
alphas_cumprod = torch.cumprod(1 - betas, dim=0).float()
table = ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5


def eps(x, t):
    return torch.tanh(x) * (0.5 + t / 2000)


cases = []
for seed, steps, eta in ((11, 6, 0.3), (2024, 4, 0.0), (7, 8, 0.7), (5, 1, 0.3)):
    scheduler = tcd.TCDScheduler()
    scheduler.alphas_cumprod = alphas_cumprod
    scheduler.set_timesteps(steps)
    torch.manual_seed(seed)
    x_t = torch.randn([1, 4, 8, 8])
    sigma0 = table[scheduler.timesteps[0]]
    x = x_t * sigma0 / (1 + sigma0 ** 2) ** 0.5
    with torch.no_grad():
        for t in scheduler.timesteps:
            x = scheduler.step(eps(x, t.float()), t, x, eta=eta).prev_sample
    after = torch.randn([1]).item()
    sigmas = [float(table[t]) for t in scheduler.timesteps] + [0.0]
    cases.append({"sampler": "tcd", "scheduler": "lcm", "eta": eta, "seed": seed, "steps": steps,
                  "timesteps": scheduler.timesteps.tolist(), "x_T": x_t.flatten().tolist(), "sigmas": sigmas,
                  "final": x.flatten().tolist(), "next_draw": after})
json.dump({"source": "huggingface/diffusers 0378974c TCDScheduler", "model": "eps = tanh(x_t) * (0.5 + t / 2000)",
           "cases": cases}, open(out, "w"))
print(f"wrote {len(cases)} cases to {out}")
