"""The domain model (DESIGN §3), one module per aggregate; imported here for Alembic and callers."""

from app.models.account_event import AccountEvent
from app.models.action_plan import (
    EnhancedProposal,
    EnhancedRound,
    Indicator,
    IndicatorValue,
    Institution,
    Measure,
    MeasureProgress,
    MeasureStatus,
    Milestone,
    ReportingFrequency,
    RoundDecision,
)
from app.models.api_token import ApiToken
from app.models.assessment import ASSISTANCE_KINDS, Answer, Choice, SectionGaps
from app.models.assignment import Assignment, Evaluation, EvaluationSection, ProposedRecommendation
from app.models.assistance import (
    AREA_LABELS,
    DEFAULT_PURPOSE,
    PURPOSE_CODES,
    AssistanceArea,
    AssistanceRequest,
    Offer,
    OfferKind,
    OfferStatus,
    Programme,
    ProgrammeEvaluation,
    ProgrammeNote,
    ProgrammeStatus,
    RequestStatus,
    Side,
)
from app.models.audit import TransitionLog
from app.models.base import Base, utcnow
from app.models.cycle import Cycle
from app.models.draw import Draw
from app.models.evidence import EvidenceFile
from app.models.framework import CAPACITY_LEVELS, AnswerType, Framework, FrameworkSection, Question
from app.models.notification import Notification, NotificationStatus
from app.models.publication import ConsentLevel, MidtermReport, PublicationConsent
from app.models.recommendation import (
    ACTION_CATEGORIES,
    Addressee,
    Assessment,
    AssessmentStatus,
    Priority,
    ProgressStatus,
    ProgressUpdate,
    Recommendation,
    Response,
    ResponsePosition,
)
from app.models.report import FactualComment, Report, ReportSection
from app.models.review import DeadlineChange, Review, ReviewDeadline
from app.models.sa_version import SelfAssessmentVersion
from app.models.stakeholder import (
    StakeholderSubmission,
    StakeholderSummary,
    SubmissionFile,
    SubmissionSection,
    SubmissionStatus,
)
from app.models.state import REGIONAL_GROUP_LABELS, RegionalGroup, State, TreatyRatification
from app.models.two_factor import RecoveryCode, TwoFactorRequirement
from app.models.upr import PriorRecommendation, upr_cycle_of
from app.models.user import (
    ORGANISATION_ROLES,
    ROLE_LABELS,
    STAKEHOLDER_KIND_LABELS,
    Role,
    StakeholderKind,
    User,
)

__all__ = [
    "AREA_LABELS",
    "DEFAULT_PURPOSE",
    "PURPOSE_CODES",
    "AssistanceArea",
    "AssistanceRequest",
    "Offer",
    "OfferKind",
    "OfferStatus",
    "Programme",
    "ProgrammeEvaluation",
    "ProgrammeNote",
    "ProgrammeStatus",
    "RequestStatus",
    "Side",
    "StakeholderSubmission",
    "StakeholderSummary",
    "SubmissionFile",
    "SubmissionSection",
    "SubmissionStatus",
    "ORGANISATION_ROLES",
    "STAKEHOLDER_KIND_LABELS",
    "StakeholderKind",
    "ApiToken",
    "ACTION_CATEGORIES",
    "ASSISTANCE_KINDS",
    "CAPACITY_LEVELS",
    "ROLE_LABELS",
    "AccountEvent",
    "Addressee",
    "Answer",
    "AnswerType",
    "Assessment",
    "AssessmentStatus",
    "Assignment",
    "Base",
    "Choice",
    "ConsentLevel",
    "Cycle",
    "Draw",
    "EnhancedProposal",
    "EnhancedRound",
    "Indicator",
    "IndicatorValue",
    "Institution",
    "Measure",
    "MeasureProgress",
    "MeasureStatus",
    "Milestone",
    "ReportingFrequency",
    "RoundDecision",
    "DeadlineChange",
    "Evaluation",
    "EvaluationSection",
    "EvidenceFile",
    "FactualComment",
    "Framework",
    "FrameworkSection",
    "MidtermReport",
    "Notification",
    "NotificationStatus",
    "Priority",
    "PriorRecommendation",
    "ProgressStatus",
    "ProgressUpdate",
    "ProposedRecommendation",
    "PublicationConsent",
    "Question",
    "Recommendation",
    "REGIONAL_GROUP_LABELS",
    "RecoveryCode",
    "RegionalGroup",
    "Report",
    "ReportSection",
    "Response",
    "ResponsePosition",
    "Review",
    "SelfAssessmentVersion",
    "ReviewDeadline",
    "Role",
    "SectionGaps",
    "State",
    "TransitionLog",
    "TreatyRatification",
    "TwoFactorRequirement",
    "User",
    "upr_cycle_of",
    "utcnow",
]

# registers the listener that keeps the current rows of histories (issue 20)
from app.models import current  # noqa: E402, F401, I001  # isort: skip
