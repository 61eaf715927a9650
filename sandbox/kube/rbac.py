"""A small authorizer: allowed verb+resource rules, globally or per bearer token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.kube.errors import ApiError, forbidden, forbidden_message, unauthorized

DEFAULT_USER = "system:serviceaccount:opsbot:opsbot"


@dataclass(frozen=True)
class RbacRule:
    """Like a Role rule: verbs x resources (`pods/log` names a subresource), `*` matches all.

    api_groups None matches every group; namespaces None matches every namespace and the
    cluster scope.
    """

    verbs: frozenset[str]
    resources: frozenset[str]
    api_groups: frozenset[str] | None = None
    namespaces: frozenset[str] | None = None

    @classmethod
    def of(
        cls,
        verbs: list[str] | tuple[str, ...],
        resources: list[str] | tuple[str, ...],
        api_groups: list[str] | None = None,
        namespaces: list[str] | None = None,
    ) -> RbacRule:
        return cls(
            frozenset(verbs),
            frozenset(resources),
            frozenset(api_groups) if api_groups is not None else None,
            frozenset(namespaces) if namespaces is not None else None,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RbacRule:
        return cls.of(
            list(data.get("verbs") or []),
            list(data.get("resources") or []),
            data.get("apiGroups"),
            data.get("namespaces"),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"verbs": sorted(self.verbs), "resources": sorted(self.resources)}
        if self.api_groups is not None:
            data["apiGroups"] = sorted(self.api_groups)
        if self.namespaces is not None:
            data["namespaces"] = sorted(self.namespaces)
        return data

    def allows(self, verb: str, group: str, resource: str, namespace: str | None) -> bool:
        return (
            ("*" in self.verbs or verb in self.verbs)
            and ("*" in self.resources or resource in self.resources)
            and (self.api_groups is None or "*" in self.api_groups or group in self.api_groups)
            and (
                self.namespaces is None or (namespace is not None and namespace in self.namespaces)
            )
        )


@dataclass
class Identity:
    user: str
    rules: list[RbacRule] | None  # None: everything allowed


@dataclass
class RbacPolicy:
    """`rules` None allows all. `tokens` maps bearer tokens to identities with their own rules;
    once any token is registered, an unknown token gets 401."""

    user: str = DEFAULT_USER
    rules: list[RbacRule] | None = None
    tokens: dict[str, Identity] = field(default_factory=dict)

    def identity(self, token: str | None) -> Identity:
        if token and token in self.tokens:
            return self.tokens[token]
        if token and self.tokens:
            raise unauthorized()
        return Identity(self.user, self.rules)

    def check(
        self,
        token: str | None,
        verb: str,
        group: str,
        resource: str,
        namespace: str | None,
        name: str | None,
        qualified: str,
    ) -> None:
        identity = self.identity(token)
        if identity.rules is None:
            return
        if any(rule.allows(verb, group, resource, namespace) for rule in identity.rules):
            return
        message = forbidden_message(
            identity.user, verb, resource, group, namespace, name, qualified
        )
        raise forbidden(message, name, group, resource.split("/", maxsplit=1)[0])

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "rules": None if self.rules is None else [r.to_dict() for r in self.rules],
            "tokens": {
                token: {
                    "user": i.user,
                    "rules": None if i.rules is None else [r.to_dict() for r in i.rules],
                }
                for token, i in self.tokens.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RbacPolicy:
        def rules(raw: Any) -> list[RbacRule] | None:
            return None if raw is None else [RbacRule.from_dict(item) for item in raw]

        tokens = {
            token: Identity(str(item.get("user", DEFAULT_USER)), rules(item.get("rules")))
            for token, item in (data.get("tokens") or {}).items()
        }
        return cls(str(data.get("user", DEFAULT_USER)), rules(data.get("rules")), tokens)


__all__ = ["DEFAULT_USER", "ApiError", "Identity", "RbacPolicy", "RbacRule"]
