"""KL pairs of LowRankMultivariateNormal (with itself and with MultivariateNormal), PyTorch's closed
forms through the capacitance factor (see lowrank_multivariate_normal.py). Imported by kl.py, which
holds the registry; kept apart so no file passes 800 lines."""

from __future__ import annotations

import ferrum

from .kl import _batch_trace_XXT, register_kl
from .lowrank_multivariate_normal import (
    LowRankMultivariateNormal,
    _batch_lowrank_logdet,
    _batch_lowrank_mahalanobis,
)
from .multivariate_normal import MultivariateNormal, _batch_mahalanobis


def _same_events(p, q, what: str) -> None:
    if p.event_shape != q.event_shape:
        raise ValueError(f"KL-divergence between two {what} with different event shapes cannot be computed")


def _q_terms(p, q):
    """log det of q's covariance, and ``A = L_C^{-1} W_q^T D_q^{-1}``."""
    Wq, Dq = q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag
    logdet_q = _batch_lowrank_logdet(Wq, Dq, q._capacitance_tril)
    A = ferrum.linalg.solve_triangular(q._capacitance_tril, Wq.mT / Dq.unsqueeze(-2), upper=False)
    term3 = _batch_lowrank_mahalanobis(Wq, Dq, q.loc - p.loc, q._capacitance_tril)
    return logdet_q, A, term3


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrank_lowrank(p, q):
    _same_events(p, q, "Low Rank Multivariate Normals")
    logdet_q, A, term3 = _q_terms(p, q)
    Wp, Dp = p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag
    Dq = q._unbroadcasted_cov_diag
    term1 = logdet_q - _batch_lowrank_logdet(Wp, Dp, p._capacitance_tril)
    term21 = (Dp / Dq).sum(-1)
    term22 = _batch_trace_XXT(Wp * Dq.rsqrt().unsqueeze(-1))
    term23 = _batch_trace_XXT(A * Dp.sqrt().unsqueeze(-2))
    term24 = _batch_trace_XXT(A.matmul(Wp))
    term2 = term21 + term22 - term23 - term24
    return 0.5 * (term1 + term2 + term3 - p.event_shape[0])


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_mvn_lowrank(p, q):
    _same_events(p, q, "(Low Rank) Multivariate Normals")
    logdet_q, A, term3 = _q_terms(p, q)
    Lp = p._unbroadcasted_scale_tril
    term1 = logdet_q - 2 * Lp.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    term21 = _batch_trace_XXT(Lp * q._unbroadcasted_cov_diag.rsqrt().unsqueeze(-1))
    term22 = _batch_trace_XXT(A.matmul(Lp))
    term2 = term21 - term22
    return 0.5 * (term1 + term2 + term3 - p.event_shape[0])


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _kl_lowrank_mvn(p, q):
    _same_events(p, q, "(Low Rank) Multivariate Normals")
    Lq = q._unbroadcasted_scale_tril
    Wp, Dp = p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag
    logdet_p = _batch_lowrank_logdet(Wp, Dp, p._capacitance_tril)
    term1 = 2 * Lq.diagonal(dim1=-2, dim2=-1).log().sum(-1) - logdet_p
    term3 = _batch_mahalanobis(Lq, q.loc - p.loc)
    batch = tuple(ferrum.broadcast_shapes(Lq.shape[:-2], Wp.shape[:-2]))
    n = p.event_shape[0]
    Lq_b = Lq.expand(batch + (n, n))
    term21 = _batch_trace_XXT(ferrum.linalg.solve_triangular(Lq_b, Wp.expand(batch + (n, Wp.size(-1))),
                                                             upper=False))
    diag_p = ferrum.diag_embed(Dp.sqrt()).expand(batch + (n, n))
    term22 = _batch_trace_XXT(ferrum.linalg.solve_triangular(Lq_b, diag_p, upper=False))
    term2 = term21 + term22
    return 0.5 * (term1 + term2 + term3 - p.event_shape[0])
