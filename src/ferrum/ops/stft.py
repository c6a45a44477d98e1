"""The short-time Fourier transform and its inverse, ``stft`` and ``istft`` (torch 2.13's top-level
functions and Tensor methods), composed of differentiable ferrum ops, so that every order of derivative
works through them.

stft: the (optionally centre-padded) signal is cut into overlapping frames by ``Tensor.unfold`` (a view),
each frame is multiplied by the window zero-padded to ``n_fft`` at its centre, and the frames are
transformed by ``fft.rfft`` (real input and window, onesided) or ``fft.fft``; the result is
``(B?, n_freq, n_frames)``. istft inverts it: ``irfft``/``ifft`` of each frame, times the window, then the
frames are overlap-added (``_overlap_add``, one node whose backward is ``unfold``, and ``unfold``'s is the
overlap-add again) and divided by the overlap-added squared window (the envelope), as torch does.

The overlap-add runs ``ceil(n_fft / hop)`` slice additions of whole frame blocks (each frame padded to a
multiple of ``hop``), not one addition per frame: for 2 x 16000 samples, n_fft 400, hop 100 that is 4
NumPy additions instead of 157.
"""

from __future__ import annotations

import warnings

from .._tensor import Tensor
from ..autograd.function import Node, record
from ._autocast import autocast_op
from ._common import xp_of
from .complex_ops import view_as_real
from .fft_ops import fft, ifft, irfft, rfft

__all__ = ["stft", "istft"]

# torch's warnings, word for word (programs filter them by message)
_NO_WINDOW_STFT = (
    "A window was not provided. A rectangular window will be applied,which is known to cause spectral "
    "leakage. Other windows such as torch.hann_window or torch.hamming_window are recommended to reduce "
    "spectral leakage.To suppress this warning and use a rectangular window, explicitly set "
    "`window=torch.ones(n_fft, device=<device>)`.")
_NO_WINDOW_ISTFT = (
    "A window was not provided. A rectangular window will be applied.Please provide the same window used by "
    "stft to make the inversion lossless.To suppress this warning and use a rectangular window, explicitly "
    "set `window=torch.ones(n_fft, device=<device>)`.")
_PADDED_TAIL = ("The length of signal is shorter than the length parameter. Result is being padded with "
                "zeros in the tail. Please check your center and hop_length settings.")


class _OverlapAddBackward(Node, name="Col2ImBackward0"):
    def backward_t(self, g):
        return (g.unfold(-1, self.n, self.hop),)


def _overlap_add(frames: Tensor, hop: int) -> Tensor:
    """``(..., T, n)`` frames summed at offsets ``t * hop``: ``(..., n + hop * (T - 1))``."""
    d = frames._data
    *batch, t, n = d.shape
    xp = xp_of(d)
    r = -(-n // hop)  # frame blocks of hop samples per frame
    padded = xp.zeros((*batch, t, r * hop), d.dtype)
    padded[..., :n] = d
    padded = padded.reshape(*batch, t, r, hop)
    y = xp.zeros((*batch, t + r - 1, hop), d.dtype)
    for j in range(r):
        y[..., j:j + t, :] += padded[..., :, j, :]
    y = xp.ascontiguousarray(y.reshape(*batch, (t + r - 1) * hop)[..., :n + hop * (t - 1)])
    return record(y, _OverlapAddBackward, (frames,), n=n, hop=hop)


def _window(window, n_fft: int, win_length: int, op: str, like: Tensor, sig: str) -> Tensor:
    """The window zero-padded at both sides to ``n_fft`` (a rectangular one when None)."""
    from .. import ones
    from ..nn.functional import pad
    if window is None:
        window = ones(win_length, dtype=like.real.dtype if like.is_complex() else like.dtype)
    elif window.dim() != 1 or window.shape[0] != win_length:
        raise RuntimeError(f"{sig}: expected a 1D window tensor of size equal to win_length={win_length}, "
                           f"but got window with size {list(window.shape)}")
    left = (n_fft - win_length) // 2
    if left or n_fft - win_length - left:
        window = pad(window, (left, n_fft - win_length - left))
    return window


def _lengths(n_fft, hop_length, win_length, sig: str) -> tuple:
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if hop <= 0:
        raise RuntimeError(f"{sig}: expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win <= n_fft:
        raise RuntimeError(f"{sig}: expected 0 < win_length <= n_fft, but got win_length={win}")
    return hop, win


@autocast_op("stft")
def stft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
         window: Tensor | None = None, center: bool = True, pad_mode: str = "reflect",
         normalized: bool = False, onesided: bool | None = None, return_complex: bool | None = None,
         align_to_window: bool | None = None) -> Tensor:
    """The short-time Fourier transform of ``input`` ``(L)`` or ``(B, L)``: ``(B?, n_freq, n_frames)``
    complex, ``n_freq = n_fft // 2 + 1`` when onesided (the default for real input and window), else
    ``n_fft``; ``n_frames = 1 + (L' - n_fft) // hop_length`` where ``L'`` is ``L + 2 * (n_fft // 2)`` with
    ``center`` (padding by ``pad_mode``) and ``L`` without. ``hop_length`` defaults to ``n_fft // 4``,
    ``win_length`` to ``n_fft``, ``window`` to ones (with torch's warning); ``normalized`` scales by
    ``n_fft ** -0.5``. ``return_complex`` must be given for real input (False returns
    ``view_as_real`` of the result, deprecated as in torch). ``align_to_window`` (only with
    ``center=False``) starts each frame at the window's first sample instead of the padded window's.

    Differences from PyTorch: with ``align_to_window`` and an odd ``n_fft - win_length``, torch 2.13
    raises a storage-bounds error when the last frame's padded part runs past the signal; ferrum reads
    zeros there (the padding), which cannot change a result torch gives."""
    from ..nn.functional import pad
    sig = f"stft(n_fft={n_fft}, hop_length={hop_length}, win_length={win_length})"
    if not isinstance(input, Tensor):
        raise TypeError(f"stft(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    complex_in = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None:
        if not complex_in:
            raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and "
                               "will further require that return_complex=True in a future PyTorch release.")
        return_complex = True
    elif not return_complex:
        warnings.warn("stft with return_complex=False is deprecated. In a future pytorch release, stft will "
                      "return complex tensors for all inputs, and return_complex=False will raise an error.\n"
                      "Note: you can still call torch.view_as_real on the complex output to recover the old "
                      "return format.", UserWarning, stacklevel=2)
    if align_to_window and center:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"{sig}: expected a 1D or 2D tensor, got {input.dim()}D")
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError(f"{sig}: expected a tensor of floating point or complex values")
    x = input if input.dim() == 2 else input.unsqueeze(0)
    if center:
        p = n_fft // 2
        x = pad(x.unsqueeze(0), (p, p), mode=pad_mode).squeeze(0)
    length = x.shape[-1]
    if not 0 < n_fft <= length:
        raise RuntimeError(f"{sig}: expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    hop, win = _lengths(n_fft, hop_length, win_length, sig)
    if window is None:
        warnings.warn(_NO_WINDOW_STFT, UserWarning, stacklevel=2)
    w = _window(window, n_fft, win, "stft", input, sig)
    if onesided is None:
        onesided = not complex_in
    elif onesided and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    if align_to_window:
        left = (n_fft - win) // 2
        x = pad(x, (left, n_fft - win - left))
        if 1 + (x.shape[-1] - n_fft) // hop < 1:
            raise RuntimeError(f"{sig}: expected 0 < win_length <= signal length, but got signal length "
                               f"{input.shape[-1]}")
    frames = x.unfold(-1, n_fft, hop) * w
    norm = "ortho" if normalized else "backward"
    spec = (rfft(frames, n_fft, -1, norm) if onesided else fft(frames, n_fft, -1, norm)).transpose(-1, -2)
    if input.dim() == 1:
        spec = spec.squeeze(0)
    return spec if return_complex else view_as_real(spec)


def istft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
          window: Tensor | None = None, center: bool = True, normalized: bool = False,
          onesided: bool | None = None, length: int | None = None, return_complex: bool = False) -> Tensor:
    """The inverse of :func:`stft`: ``input`` ``(B?, n_freq, n_frames)`` complex gives the signal
    ``(B?, L)`` by inverse-transforming each frame, windowing, overlap-adding and dividing by the
    overlap-added squared window (which must not vanish anywhere in the kept range: RuntimeError).
    ``L`` is ``length`` when given (trimmed, or zero-padded with torch's warning), else
    ``n_fft + hop * (n_frames - 1)`` less ``n_fft // 2`` at each end with ``center``. ``onesided``
    defaults to ``n_freq != n_fft``; ``return_complex`` gives a complex signal (not onesided)."""
    from ..nn.functional import pad
    sig = f"istft(n_fft={n_fft}, hop_length={hop_length}, win_length={win_length})"
    if not isinstance(input, Tensor):
        raise TypeError(f"istft(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output from stft with "
                           "return_complex=True.")
    if window is None:
        warnings.warn(_NO_WINDOW_ISTFT, UserWarning, stacklevel=2)
    hop, win = _lengths(n_fft, hop_length, win_length, sig)
    if hop > win:
        raise RuntimeError(f"{sig}: expected 0 < hop_length <= win_length")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"{sig}: expected a tensor with 2 or 3 dimensions of complex values, but got "
                           f"{input.dim()}")
    x = input if input.dim() == 3 else input.unsqueeze(0)
    fft_size, n_frames = x.shape[-2], x.shape[-1]
    if onesided is None:
        onesided = fft_size != n_fft
    if onesided and n_fft // 2 + 1 != fft_size:
        raise RuntimeError(f"{sig}: expected the frequency dimension (3rd to the last) of the input tensor "
                           f"to match n_fft / 2 + 1 when onesided=True, but got {fft_size}")
    if not onesided and n_fft != fft_size:
        raise RuntimeError(f"{sig}: expected the frequency dimension (3rd to the last) of the input tensor "
                           f"to match n_fft when onesided=False, but got {fft_size}")
    if n_frames < 1:
        raise RuntimeError(f"{sig}: expected at least one frame, got an input of shape {list(input.shape)}")
    w = _window(window, n_fft, win, "istft", x.real, sig)
    if return_complex and onesided:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    if not return_complex and w.is_complex():
        raise RuntimeError("Complex windows are incompatible with return_complex=False")
    norm = "ortho" if normalized else "backward"
    x = x.transpose(-1, -2)
    if return_complex:
        frames = ifft(x, n_fft, -1, norm)
    else:
        if not onesided:
            x = x[..., :n_fft // 2 + 1]
        frames = irfft(x, n_fft, -1, norm)
    y = _overlap_add(frames * w, hop)
    env = _overlap_add((w * w).expand(n_frames, n_fft), hop)
    expected = n_fft + hop * (n_frames - 1)
    start = n_fft // 2 if center else 0
    # torch slices to -(n_fft // 2) with center: an empty signal for n_fft = 1 (an error below, as there)
    end = start + length if length is not None else (
        (expected - n_fft // 2 if n_fft // 2 else 0) if center else expected)
    y = y[..., start:end]
    env = env[start:end]
    if env.numel() == 0:  # torch fails here too (the minimum of an empty envelope)
        raise RuntimeError(f"{sig}: the output signal is empty (n_fft={n_fft}, {n_frames} frames, "
                           f"center={center}, length={length})")
    if bool((env.abs() < 1e-11).any()):
        raise RuntimeError(f"{sig}: window overlap add min: the squared window overlap-added over the frames "
                           "vanishes somewhere in the output (choose a window and hop that overlap)")
    y = y / env
    if end > expected:
        warnings.warn(_PADDED_TAIL, UserWarning, stacklevel=2)
        y = pad(y, (0, end - expected))
    return y.squeeze(0) if input.dim() == 2 else y


Tensor.stft = stft
Tensor.istft = istft
