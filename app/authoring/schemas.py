"""Where an authoring action came from: it is written into the audit trail with the action."""

from __future__ import annotations

from enum import StrEnum


class Source(StrEnum):
    WEB = "web"  # コンテンツ管理
    CLI = "lms content import"
    DOCUMENTS = "documents"  # a company document's test, published with the document
