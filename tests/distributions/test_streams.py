"""Samples built on ferrum's PyTorch-stream generator equal torch's for the same seed (sample and
rsample): the distributions whose samplers are rand/randn/uniform_/exponential_/bernoulli/multinomial
compositions, and the gamma family, Poisson and Binomial, whose samplers are PyTorch's
(``ferrum/_rng_samplers.py``), Cauchy's (cauchy.py) and von Mises' (von_mises.py). Only Wishart draws
differently (torch 2.13 redraws every Wishart sample once, see wishart.py); its statistics are tested
in test_lkj_wishart.py."""

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
         ("ContinuousBernoulli", ([0.2, 0.7],)), ("HalfNormal", ([1.0, 2.0],)),
         ("Gamma", ([0.3, 1.0, 4.5], [1.0, 2.0, 0.5])), ("Chi2", ([0.7, 3.0],)),
         ("Beta", ([0.5, 2.0], [1.0, 3.0])), ("Dirichlet", ([[0.3, 1.0, 4.5], [2.0, 2.0, 0.1]],)),
         ("StudentT", ([0.8, 3.0, 30.0], [0.0, 1.0, -1.0], [1.0, 2.0, 0.5])),
         ("FisherSnedecor", ([2.0, 5.0], [3.0, 9.0])), ("InverseGamma", ([2.0, 5.0], [3.0, 9.0])),
         ("Kumaraswamy", ([2.0, 5.0], [3.0, 0.5])), ("Pareto", ([2.0, 5.0], [3.0, 0.5])),
         ("Weibull", ([2.0, 5.0], [3.0, 0.5])), ("LogisticNormal", ([0.2, -1.0], [1.0, 0.5])),
         ("LowRankMultivariateNormal", ([0.0, 1.0], [[1.0], [0.5]], [1.0, 2.0])),
         ("LKJCholesky", (3, [0.5, 2.0])), ("Poisson", ([0.0, 0.4, 3.0, 10.0, 250.0],)),
         ("NegativeBinomial", ([3.0, 0.5, 40.0], [0.3, 0.5, 0.9])),
         ("Binomial", ([0.0, 5.0, 40.0, 1000.0, 7.0, 60.0], [0.3, 0.5, 0.6, 0.02, 0.97, 0.9])),
         ("Multinomial", (5, [[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])),
         ("VonMises", ([0.5, -2.0, 3.0], [0.01, 1.0, 30.0])), ("Cauchy", ([0.0, 1.0, 2.0], [1.0, 2.0, 0.5])),
         ("HalfCauchy", ([1.0, 2.0],))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_same_draws_as_torch(torch, dtype, name, args):
    tdt, fdt = getattr(torch, dtype), getattr(ferrum, dtype)
    td = getattr(torch.distributions, name)(*[torch.tensor(a, dtype=tdt) if isinstance(a, list) else a
                                              for a in args])
    fd = getattr(FD, name)(*[ferrum.tensor(a, dtype=fdt) if isinstance(a, list) else a for a in args])
    for method in ("sample", "rsample") if td.has_rsample else ("sample",):
        for shape in ((), (5,), (2, 17)):
            torch.manual_seed(11)
            ferrum.manual_seed(11)
            t = getattr(td, method)(shape).detach().numpy()
            f = np.asarray(getattr(fd, method)(shape).detach()._data)
            # float32 normals agree with torch's to an ulp or so (ferrum computes their Box-Muller blocks in
            # float64 and rounds), which the compositions can amplify a little
            tol = 3e-5 if dtype == "float32" else 1e-10
            np.testing.assert_allclose(f, t, rtol=tol, atol=tol, err_msg=f"{name}.{method}{shape}")
