"""The suite's one-line warnings: through the ``rlcourse`` logger, so that they reach stderr as
``warning: ...`` unless logging is set up otherwise (kept free of heavy imports)."""

from __future__ import annotations

import logging

log = logging.getLogger("rlcourse")


def warn(message: str) -> None:
    """One warning line on stderr (through the ``rlcourse`` logger)."""
    log.warning("warning: %s", message)
