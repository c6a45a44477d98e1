"""ferrum.distributions: torch.distributions on ferrum's differentiable Tensor ops.

One family per file, as PyTorch lays them out. Sampling draws from ferrum's generator
(``ferrum.manual_seed`` makes it reproducible). Since that generator reproduces PyTorch's CPU streams,
the samplers built on ``rand``, ``randn``, ``uniform_``, ``exponential_``, ``bernoulli`` and
``multinomial`` (Normal, Uniform,
Exponential, Laplace, Bernoulli, Categorical, Gumbel, Geometric, MultivariateNormal, the relaxed
distributions...), the gamma family, Poisson and Binomial (PyTorch's samplers, ``ferrum/_rng_samplers.py``:
Gamma, Chi2, Beta, Dirichlet, StudentT, FisherSnedecor, InverseGamma, LKJCholesky, Poisson,
NegativeBinomial, Binomial, Multinomial) give PyTorch's values for the same seed
(tests/distributions/test_streams.py), as do Cauchy and VonMises; only Wishart's draws do not. Densities,
entropies, cdfs and KL divergences are PyTorch's formulas on ferrum ops, so they are differentiable
and agree with PyTorch's values to rounding.
"""

from . import constraint_registry, constraints, kl, transforms  # noqa: F401
from .bernoulli import Bernoulli
from .binomial import Binomial, Multinomial
from .categorical import Categorical
from .cauchy import Cauchy
from .constraint_registry import biject_to, transform_to
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Beta, Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .fishersnedecor import FisherSnedecor
from .gamma import Chi2, Gamma
from .generalized_pareto import GeneralizedPareto
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .inverse_gamma import InverseGamma
from .kl import kl_divergence, register_kl
from .kumaraswamy import Kumaraswamy
from .laplace import Laplace
from .lkj_cholesky import LKJCholesky
from .log_normal import LogNormal
from .logistic_normal import LogisticNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .pareto import Pareto
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import *  # noqa: F401,F403
from .uniform import Uniform
from .von_mises import VonMises
from .weibull import Weibull
from .wishart import Wishart

__all__ = ["Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "ContinuousBernoulli",
           "Dirichlet", "Distribution", "Exponential", "ExponentialFamily", "FisherSnedecor", "Gamma",
           "GeneralizedPareto", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Independent",
           "InverseGamma", "Kumaraswamy", "LKJCholesky", "Laplace", "LogNormal", "LogisticNormal",
           "LowRankMultivariateNormal", "MixtureSameFamily", "Multinomial", "MultivariateNormal",
           "NegativeBinomial", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Pareto",
           "Poisson", "RelaxedBernoulli", "RelaxedOneHotCategorical", "StudentT", "TransformedDistribution",
           "Uniform", "VonMises", "Weibull", "Wishart", "kl_divergence", "register_kl", "biject_to",
           "transform_to", *transforms.__all__]
