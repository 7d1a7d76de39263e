"""Modules that clash with ``greetings`` or with the core, one way each."""

from __future__ import annotations

import strawberry
from loyalty_core.sdk import ModuleInfo, SchemaContribution, TypeExtension, hookimpl


def _info(name: str) -> ModuleInfo:
    return ModuleInfo(name=name, version="1.0.0", description="Clashes on purpose.")


class RootField:
    """``Query.hello``, which greetings defines too."""

    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self) -> str:
            return "hi"

    @staticmethod
    @hookimpl
    def loyalty_module() -> ModuleInfo:
        return _info("echo")

    @staticmethod
    @hookimpl
    def loyalty_schema() -> SchemaContribution:
        return SchemaContribution(query=RootField.Query)


class TypeName:
    """Its own type named ``Greeting``, which greetings defines too."""

    @strawberry.type(name="Greeting")
    class Lookalike:
        words: list[str]

    @strawberry.type
    class Query:
        @strawberry.field
        def lookalike(self) -> TypeName.Lookalike:
            return TypeName.Lookalike(words=[])

    @staticmethod
    @hookimpl
    def loyalty_module() -> ModuleInfo:
        return _info("lookalike")

    @staticmethod
    @hookimpl
    def loyalty_schema() -> SchemaContribution:
        return SchemaContribution(query=TypeName.Query)


@strawberry.field
def badge_count() -> int:
    return 0


class ExtensionField:
    """``Member.badgeCount``, which greetings adds too."""

    @staticmethod
    @hookimpl
    def loyalty_module() -> ModuleInfo:
        return _info("badges")

    @staticmethod
    @hookimpl
    def loyalty_type_extensions() -> list[TypeExtension]:
        return [TypeExtension("Member", badge_count)]


@strawberry.field
def status() -> str:
    return "shadowed"


class CoreField:
    """``Member.status``, a field of the core's own."""

    @staticmethod
    @hookimpl
    def loyalty_module() -> ModuleInfo:
        return _info("shadow")

    @staticmethod
    @hookimpl
    def loyalty_type_extensions() -> list[TypeExtension]:
        return [TypeExtension("Member", status)]
