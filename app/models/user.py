"""Accounts: focal points, peer reviewers, secretariat staff, international partners and
stakeholders (DESIGN §1, §3; issue 18)."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.models.base import Base, UTCDateTime, enum_column, utcnow
from app.models.state import State
from workflows.base import N_


class Role(enum.StrEnum):
    FOCAL_POINT = "focal_point"
    REVIEWER = "reviewer"
    SECRETARIAT = "secretariat"
    #: a donor agency, UN entity, regional organisation or foundation (pillar two; no state)
    PARTNER = "partner"
    #: a civil-society organisation or national human-rights institution (no state)
    STAKEHOLDER = "stakeholder"


#: Roles that speak for an organisation rather than a state: an organisation name, no state.
ORGANISATION_ROLES = (Role.PARTNER, Role.STAKEHOLDER)


class StakeholderKind(enum.StrEnum):
    """What kind of organisation a stakeholder is (DESIGN §1; the UPR's "other stakeholders")."""

    CSO = "cso"
    NHRI = "nhri"


STAKEHOLDER_KIND_LABELS = {
    StakeholderKind.CSO: N_("Civil-society organisation"),
    StakeholderKind.NHRI: N_("National human-rights institution"),
}


ROLE_LABELS = {
    Role.FOCAL_POINT: N_("Focal point"),
    Role.REVIEWER: N_("Peer reviewer"),
    Role.SECRETARIAT: N_("Secretariat"),
    Role.PARTNER: N_("International partner"),
    Role.STAKEHOLDER: N_("Stakeholder"),
}


class User(UserMixin, Base):
    """A person who signs in. Focal points and reviewers belong to exactly one state; partners
    and stakeholders to no state but to an organisation (``organisation``), and a stakeholder's
    ``stakeholder_kind`` says whether it is a civil-society organisation or an NHRI."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "role IN ('secretariat', 'partner', 'stakeholder') OR state_id IS NOT NULL",
            name="state_required",
        ),
        CheckConstraint(
            "role NOT IN ('partner', 'stakeholder') OR "
            "(state_id IS NULL AND organisation IS NOT NULL)",
            name="organisation_required",
        ),
        CheckConstraint(
            "(role = 'stakeholder') = (stakeholder_kind IS NOT NULL)",
            name="kind_only_for_stakeholders",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    state_id: Mapped[int | None] = mapped_column(ForeignKey("state.id"), index=True)
    organisation: Mapped[str | None] = mapped_column(String(200))
    stakeholder_kind: Mapped[StakeholderKind | None] = mapped_column(
        enum_column(StakeholderKind, "stakeholder_kind")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # part of the id Flask-Login keeps in the session and the remember-me cookie: changing it
    # (sign-out, new password) ends every session of the account, copied cookies included
    session_token: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    #: The interface and e-mail language the person chose (`app.i18n.LANGUAGES`); None: the
    #: browser's, else English (DESIGN §11).
    locale: Mapped[str | None] = mapped_column(String(8))

    # second factor (issue 14): the RFC 6238 key (base32), set when enrolment starts and in use
    # from ``totp_enabled_at``; ``totp_last_step`` is the last time-step (30 s) a code was
    # accepted for, so a code cannot be used twice
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    state: Mapped[State | None] = relationship()

    @property
    def has_two_factor(self) -> bool:
        """Whether sign-in asks this account for an authenticator or recovery code."""
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def get_id(self) -> str:
        """The session id Flask-Login stores: ``"<id>.<session_token>"``."""
        return f"{self.id}.{self.session_token}"

    def end_sessions(self) -> None:
        """Invalidate every session and remember-me cookie of this account."""
        self.session_token = secrets.token_hex(16)

    def set_password(self, password: str) -> None:
        """Hash and store ``password``; every existing session of the account ends."""
        method = "scrypt"
        if has_app_context():
            method = current_app.config.get("PASSWORD_HASH_METHOD", method)
        self.password_hash = generate_password_hash(password, method=method)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
