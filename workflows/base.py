"""The small engine shared by every lifecycle: transition specs, readable refusals, one machine.

A `Lifecycle` compiles a list of `TransitionSpec` into a single `transitions.Machine` with
``model=None``; `Lifecycle.fire` runs one event against a throw-away subject that only carries the
current status, so no machine is ever attached to a database row.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from transitions import Machine, MachineError


def N_(message: str) -> str:
    """Mark a message for translation without translating it (Babel keyword ``N_``)."""
    return message


def Np_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 (gettext convention)
    """Mark a singular/plural pair for translation without translating it (Babel keyword
    ``Np_:1,2``); the form is chosen by the count when the message is rendered."""
    return singular, plural


@dataclass(frozen=True)
class Refusal:
    """Why a guard refused: a translatable message with ``%(name)s`` placeholders and its values.

    With ``plural`` set (see `counted`), ``params["count"]`` chooses between ``message`` (one) and
    ``plural`` (the language's other forms).
    """

    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str = ""

    @classmethod
    def counted(cls, forms: tuple[str, str], count: int, **params: Any) -> Refusal:
        """A refusal about ``count`` things; ``forms`` is an `Np_` pair using ``%(count)d``."""
        return cls(forms[0], {"count": count, **params}, plural=forms[1])

    def render(
        self,
        translate: Callable[[str], str] = lambda s: s,
        translate_plural: Callable[[str, str, int], str] | None = None,
    ) -> str:
        """Return the message translated by ``translate`` (or, for a counted message, by
        ``translate_plural(singular, plural, count)``, e.g. ``Translations.ngettext``; English
        forms without it) and formatted with its params."""
        if self.plural:
            count = int(self.params["count"])
            if translate_plural is None:
                text = self.message if count == 1 else self.plural
            else:
                text = translate_plural(self.message, self.plural, count)
        else:
            text = translate(self.message)
        return text % dict(self.params) if self.params else text


class TransitionRefused(Exception):
    """A guard refused the event; ``refusal`` says why in words a person can read."""

    def __init__(self, refusal: Refusal):
        super().__init__(refusal.render())
        self.refusal = refusal


class InvalidTransition(Exception):
    """The event does not exist for this lifecycle or is not possible from the current status."""

    def __init__(self, event: str, status: str):
        super().__init__(f"'{event}' is not possible from '{status}'")
        self.event = event
        self.status = status


Guard = Callable[[Mapping[str, Any]], "Refusal | None"]


@dataclass(frozen=True)
class TransitionSpec:
    """One row of a lifecycle's transition table (DESIGN §4).

    ``dest`` None means an internal transition: the event is recorded, the status does not change.
    ``by`` names the actor rule that ``app/access.py`` resolves (e.g. ``"secretariat"``).
    ``needs_reason`` asks the user interface for a reason, which guards may require.
    """

    event: str
    sources: tuple[str, ...]
    dest: str | None
    by: str
    label: str
    guards: tuple[Guard, ...] = ()
    needs_reason: bool = False
    style: str = "primary"


class Lifecycle:
    """A named lifecycle: its statuses, its transition table and the one machine built from them."""

    def __init__(
        self,
        name: str,
        statuses: type[enum.StrEnum],
        initial: str,
        specs: list[TransitionSpec],
        labels: Mapping[str, str],
    ):
        self.name = name
        self.statuses = statuses
        self.initial = initial
        self.specs = specs
        self.labels = dict(labels)
        self._by_event = {spec.event: spec for spec in specs}
        self.machine = Machine(
            model=None,
            states=[s.value for s in statuses],
            initial=str(initial),
            auto_transitions=False,
            send_event=True,
            name=name,
        )
        for spec in specs:
            # plain strings: `transitions` would key Enum members by their .name
            self.machine.add_transition(
                spec.event,
                [str(source) for source in spec.sources],
                None if spec.dest is None else str(spec.dest),
                conditions=[_as_condition(g) for g in spec.guards],
            )

    @property
    def events(self) -> list[str]:
        """Every event name of this lifecycle, in table order."""
        return [spec.event for spec in self.specs]

    def spec(self, event: str) -> TransitionSpec:
        """Return the spec of ``event``. Raises `InvalidTransition` if there is none."""
        try:
            return self._by_event[event]
        except KeyError:
            raise InvalidTransition(event, "?") from None

    def specs_from(self, status: str) -> list[TransitionSpec]:
        """Specs whose source includes ``status``, in table order."""
        return [spec for spec in self.specs if status in spec.sources]

    def target(self, event: str, status: str) -> str:
        """The status ``event`` leads to from ``status`` (itself for an internal transition)."""
        spec = self.spec(event)
        if status not in spec.sources:
            raise InvalidTransition(event, status)
        return spec.dest or status

    def fire(self, status: str, event: str, facts: Mapping[str, Any]) -> str:
        """Fire ``event`` from ``status`` with the guards reading ``facts``; return the new status.

        Raises:
            InvalidTransition: unknown event, or not possible from ``status``.
            TransitionRefused: a guard refused; its `Refusal` says why.
        """
        if event not in self._by_event:
            raise InvalidTransition(event, status)
        status = str(status)
        subject = _Subject(status)
        refusals: list[Refusal] = []
        try:
            done = self.machine.events[event].trigger(subject, facts=facts, refusals=refusals)
        except MachineError:
            raise InvalidTransition(event, status) from None
        if not done:
            raise TransitionRefused(refusals[0] if refusals else Refusal(N_("Not allowed now.")))
        return subject.state

    def label(self, status: str) -> str:
        """Display label of a status (untranslated msgid)."""
        return self.labels.get(status, status)

    def mermaid(
        self,
        current: str | None = None,
        translate: Callable[[str], str] = lambda s: s,
        actors: Mapping[str, str] | None = None,
    ) -> str:
        """This lifecycle as mermaid ``stateDiagram-v2`` source, drawn from `specs` and `labels`.

        ``current`` (a status) is marked with the class ``current``; ``translate`` turns status
        labels and event labels (msgids) into the reader's language; ``actors`` maps a spec's
        ``by`` to a readable name shown after the event label. An internal transition (``dest``
        None) is drawn as a loop on its source. Written here rather than with
        ``transitions.extensions.GraphMachine(graph_engine="mermaid")`` because that engine draws
        a machine's *models*, and ours has none (``model=None``).
        """
        actors = actors or {}
        lines = [
            "stateDiagram-v2",
            "  direction LR" if len(self.statuses) <= 4 else "  direction TB",
        ]
        for status in self.statuses:
            lines.append(f'  state "{_mermaid_text(translate(self.label(status)))}" as {status}')
        lines.append(f"  [*] --> {self.initial}")
        for spec in self.specs:
            text = translate(spec.label)
            if spec.by in actors:
                text = f"{text} ({actors[spec.by]})"
            for source in spec.sources:
                dest = spec.dest or source
                lines.append(f"  {source} --> {dest} : {_mermaid_text(text)}")
        if current is not None and str(current) in {s.value for s in self.statuses}:
            lines.append(
                "  classDef current fill:#ffe69c,stroke:#b02a37,stroke-width:3px,font-weight:bold"
            )
            lines.append(f"  class {current} current")
        return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    """Text safe inside a mermaid label: no quotes, colons, semicolons, brackets or markup."""
    for bad, good in (('"', "'"), (":", " -"), (";", ","), ("#", ""), ("<", ""), (">", "")):
        text = text.replace(bad, good)
    return " ".join(text.split())


class _Subject:
    """The only thing the machine ever sees: a status, for the duration of one event."""

    def __init__(self, state: str):
        self.state = state


def _as_condition(guard: Guard) -> Callable[[Any], bool]:
    def condition(event_data: Any) -> bool:
        refusal = guard(event_data.kwargs["facts"])
        if refusal is not None:
            event_data.kwargs["refusals"].append(refusal)
            return False
        return True

    condition.__name__ = getattr(guard, "__name__", "guard")
    return condition


def context_guard(guard: Guard) -> Guard:
    """Mark a guard that depends only on the subject's context (e.g. its review's status), not on
    work to be done: where it refuses, the user interface does not offer the event at all."""
    guard.context = True  # type: ignore[attr-defined]
    return guard


def context_refusal(spec: TransitionSpec, facts: Mapping[str, Any]) -> Refusal | None:
    """The first refusal among ``spec``'s context guards for ``facts``, or None."""
    for guard in spec.guards:
        if getattr(guard, "context", False):
            refusal = guard(facts)
            if refusal is not None:
                return refusal
    return None


def has_words(text: Any) -> bool:
    """True when ``text`` holds a visible character (not only spaces or zero-width marks)."""
    return any(ch.isprintable() and not ch.isspace() for ch in str(text or ""))


def reason_given(facts: Mapping[str, Any]) -> Refusal | None:
    """Guard shared by every lifecycle: a ``reason`` with visible text is required."""
    if not has_words(facts.get("reason")):
        return Refusal(N_("Please give a reason."))
    return None
