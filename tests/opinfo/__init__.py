"""The op registry (see core.py); ``load()`` fills ``REGISTRY`` from the per-family tables."""

from .core import REGISTRY, OpInfo, Sample  # noqa: F401


def load() -> dict:
    from . import db_elementwise, db_linalg, db_nn, db_reduce, db_shape  # noqa: F401
    from . import db_conv  # noqa: F401
    from . import db_norm  # noqa: F401
    from . import db_sample  # noqa: F401
    from . import db_pool  # noqa: F401
    from . import db_embedding  # noqa: F401
    from . import db_rnn  # noqa: F401
    from . import db_attention  # noqa: F401
    from . import db_complex  # noqa: F401
    from . import db_special  # noqa: F401
    from . import db_ctc  # noqa: F401
    from . import db_search  # noqa: F401
    from . import db_fft  # noqa: F401
    from . import db_linalg_extra  # noqa: F401

    return REGISTRY
