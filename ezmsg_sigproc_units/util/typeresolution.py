"""Type-resolution helpers, under the peer's module path. They live in ezmsg-baseproc; new
code should import them from ``ezmsg.baseproc.util.typeresolution``."""

from ezmsg.baseproc.util.typeresolution import (
    TypeLike,
    check_message_type_compatibility,
    resolve_typevar,
)

__all__ = ["TypeLike", "check_message_type_compatibility", "resolve_typevar"]
