"""Samples built on ferrum's PyTorch-stream generator equal torch's for the same seed (sample and
rsample): the distributions whose samplers are rand/randn/uniform_/exponential_/bernoulli/multinomial
compositions. The gamma-based, Poisson, Binomial, Cauchy and von Mises samplers draw differently
(their statistics are tested in their own files)."""

import numpy as np
import pytest

import ferrum
import ferrum.distributions as FD

CASES = [("Normal", ([0.0, 1.0, 2.0], [1.0, 2.0, 0.5])), ("Uniform", ([0.0, 1.0, 2.0], [1.0, 2.0, 3.5])),
         ("Exponential", ([1.0, 2.0, 0.5],)), ("Laplace", ([0.0, 1.0, 2.0], [1.0, 2.0, 0.5])),
         ("Bernoulli", ([0.2, 0.5, 0.9],)), ("Categorical", ([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]],)),
         ("Gumbel", ([0.0, 1.0, 2.0], [1.0, 2.0, 0.5])), ("Geometric", ([0.2, 0.5, 0.9],)),
         ("LogNormal", ([0.0, 1.0, 2.0], [1.0, 2.0, 0.5])),
         ("MultivariateNormal", ([0.0, 1.0], [[2.0, 0.3], [0.3, 1.0]])),
         ("RelaxedBernoulli", (0.5, [0.2, 0.5, 0.9])), ("OneHotCategorical", ([0.2, 0.5, 0.3],)),
         ("ContinuousBernoulli", ([0.2, 0.7],)), ("HalfNormal", ([1.0, 2.0],))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_same_draws_as_torch(torch, dtype, name, args):
    tdt, fdt = getattr(torch, dtype), getattr(ferrum, dtype)
    td = getattr(torch.distributions, name)(*[torch.tensor(a, dtype=tdt) for a in args])
    fd = getattr(FD, name)(*[ferrum.tensor(a, dtype=fdt) for a in args])
    for method in ("sample", "rsample") if td.has_rsample else ("sample",):
        for shape in ((), (5,), (2, 17)):
            torch.manual_seed(11)
            ferrum.manual_seed(11)
            t = getattr(td, method)(shape).detach().numpy()
            f = np.asarray(getattr(fd, method)(shape).detach()._data)
            np.testing.assert_allclose(f, t, rtol=2e-6, atol=2e-6, err_msg=f"{name}.{method}{shape}")
