"""The one exception rlecodec raises for malformed run-length data, its messages, and the
one place where a kernel's raw failure report becomes it (:class:`kernel_errors`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._codec import KernelError as KernelError  # (re-exported for the facade's types)
from ._codec import KernelErrors


class RLEError(ValueError):
    """A run-length string (or run array) is malformed.

    Attributes
    ----------
    token : int or None
        0-based index of the offending token; for a problem with a whole run (out of
        bounds, overlapping, ...) the index of that run's start token.
    item : int or None
        Index of the failing input within a batch (``decode_many``), else ``None``.
    reason : str or None
        A stable machine-readable code.  Kaggle text and run arrays: ``"odd_token_count"``,
        ``"not_a_number"``, ``"negative"``, ``"overflow"``, ``"below_base"``,
        ``"past_end"``, ``"zero_length"``, ``"unsorted"``, ``"overlap"``.  COCO counts:
        ``"truncated"`` (a compressed string that ends inside a count),
        ``"not_a_number"``, ``"negative"``, ``"overflow"``, ``"size_mismatch"`` (the
        counts do not add up to height x width).  Several masks of one image:
        ``"overlap"`` (two classes share a pixel in a label map).

    Examples
    --------
    >>> import rlecodec
    >>> try:
    ...     rlecodec.decode("1 3 x 2", (4, 4))
    ... except rlecodec.RLEError as err:
    ...     print(err.token, err.reason)
    2 not_a_number
    """

    def __init__(
        self,
        message: str,
        *,
        token: int | None = None,
        item: int | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.token = token
        self.item = item
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the attributes when the error crosses a process boundary.
        return (_rebuild, (str(self), self.token, self.item, self.reason))


def _rebuild(message: str, token: int | None, item: int | None, reason: str | None) -> RLEError:
    return RLEError(message, token=token, item=item, reason=reason)


_RUN_REASONS = {"below_base", "past_end", "zero_length", "unsorted", "overlap"}
_SNIPPET_CHARS = 40


def _snippet(source: Any, offset: int, length: int, run_level: bool) -> str:
    """The offending token (or run) as the user wrote it, shortened if huge."""
    if isinstance(source, (str, bytes)):
        # Offsets count the bytes the kernel read: UTF-8, lone surrogates as "surrogatepass"
        # writes them.
        raw = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
        piece = raw[offset : offset + min(length, _SNIPPET_CHARS * 4)]
        try:
            text = piece.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            text = piece.decode("utf-8", "backslashreplace")
    else:  # an int64 token array
        text = " ".join(str(v) for v in source[offset : offset + (2 if run_level else 1)])
    if len(text) > _SNIPPET_CHARS:
        text = text[: _SNIPPET_CHARS - 3] + "..."
    return repr(text)


def describe(
    kernel_error: Any,
    source: Any,
    *,
    base: int,
    shape: tuple[int, int] | None = None,
    item: int | None = None,
) -> RLEError:
    """Turn a kernel's raw failure into an :class:`RLEError` that says what and where."""
    reason = kernel_error.reason
    token = int(kernel_error.token)
    run = token // 2
    what = _snippet(source, int(kernel_error.offset), int(kernel_error.length),
                    reason in _RUN_REASONS)
    if reason == "odd_token_count":
        msg = f"odd number of tokens: token {token} ({what}) starts run {run} but has no length"
    elif reason == "not_a_number":
        msg = f"token {token} ({what}) of run {run} is not a plain non-negative decimal integer"
    elif reason == "negative":
        msg = f"token {token} ({what}) of run {run} is negative"
    elif reason == "overflow":
        msg = f"token {token} ({what}) of run {run} does not fit in a 64-bit integer"
    elif reason == "below_base":
        msg = f"run {run} ({what}, token {token}) starts below base={base}"
    elif reason == "past_end":
        h, w = shape if shape else (0, 0)
        where = f"the {h}x{w} mask ({h * w} pixels)" if shape else "int64"
        msg = f"run {run} ({what}, token {token}) ends past the last pixel of {where}"
    elif reason == "zero_length":
        msg = f"run {run} ({what}, token {token}) has zero length (strict=False ignores it)"
    elif reason == "unsorted":
        msg = (f"run {run} ({what}, token {token}) starts before the previous run; runs must "
               "increase (strict=False accepts unsorted runs)")
    elif reason == "overlap":
        msg = (f"run {run} ({what}, token {token}) overlaps the previous run "
               "(strict=False accepts overlapping runs)")
    else:
        msg = f"malformed run-length data at token {token} ({what}): {reason}"
    if item is not None:
        msg = f"item {item}: {msg}"
    return RLEError(msg, token=token, item=item, reason=reason)


def describe_item(kernel_error: Any, sources: list[Any], base: int,
                  shape: tuple[int, int] | None) -> RLEError:
    """:func:`describe` for the failing one of ``sources`` (``kernel_error.item``, else the
    only one): the usual ``explain`` of :data:`kernel_errors`.

    Examples
    --------
    >>> from rlecodec import _codec
    >>> with kernel_errors(describe_item, ["1 x"], 1, None):
    ...     _codec.to_runs("1 x", 1, False, True)
    Traceback (most recent call last):
    ...
    rlecodec._errors.RLEError: token 1 ('x') of run 0 is not a plain non-negative decimal integer
    """
    item = kernel_error.item
    return describe(kernel_error, sources[0 if item is None else item], base=base,
                    shape=shape, item=item)


#: How a kernel's failure report becomes an RLEError: ``explain(err, *context)``.
Explain = Callable[..., RLEError]

#: ``with kernel_errors(explain, *context):`` -- within the block, a kernel's
#: :class:`KernelError` is raised as the :class:`RLEError` that ``explain(err, *context)``
#: words.  The one place where that happens (written in C: every small decode passes it).
kernel_errors = KernelErrors
