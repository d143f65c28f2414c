"""Processor base shared by the suite's stateless transformers."""

from __future__ import annotations

import typing

from ezmsg.baseproc import BaseTransformer, MessageInType, MessageOutType, SettingsType


class StatelessTransformer(
    BaseTransformer[SettingsType, MessageInType, MessageOutType],
    typing.Generic[SettingsType, MessageInType, MessageOutType],
):
    """``BaseTransformer`` whose ``__call__`` *is* the subclass's ``_process``.

    ``BaseTransformer.__call__`` only forwards to ``_process``; binding it directly saves one
    Python frame (~0.2 us) per message, a fifth of the framework overhead of a math op.
    """

    def __init_subclass__(cls, **kwargs: typing.Any) -> None:
        super().__init_subclass__(**kwargs)
        process = cls.__dict__.get("_process")
        if process is not None:
            cls.__call__ = process  # type: ignore[method-assign]
