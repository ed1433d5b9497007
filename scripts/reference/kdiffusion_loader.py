"""Loads k-diffusion's sampling.py and external.py from a checkout without its package __init__ (which pulls
in training code and torchsde/torchdiffeq, which the reference scripts here never call)."""
import importlib.util
import sys
import types


def load(repo):
    """The k_diffusion package with its `sampling` and `external` modules, from the checkout at `repo`."""
    pkg = types.ModuleType("k_diffusion")
    pkg.__path__ = []
    sys.modules["k_diffusion"] = pkg
    utils = types.ModuleType("k_diffusion.utils")
    utils.append_dims = lambda x, n: x[(...,) + (None,) * (n - x.ndim)]
    sys.modules["k_diffusion.utils"] = utils
    pkg.utils = utils
    for name in ("torchsde", "torchdiffeq"):  # only the Brownian tree and the adaptive solver use them
        stub = types.ModuleType(name)
        stub.odeint = None
        stub.BrownianTree = None
        sys.modules[name] = stub
    for name in ("sampling", "external"):
        setattr(pkg, name, load_file("k_diffusion." + name, f"{repo}/k_diffusion/{name}.py"))
    return pkg


def load_file(full_name, path):
    spec = importlib.util.spec_from_file_location(full_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[full_name] = module
    spec.loader.exec_module(module)
    return module
