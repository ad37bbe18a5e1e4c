"""Does a SQL statement constrain every bot-owned relation it touches to one bot?

The rule (what "scoped by bot_id" means, checked per statement as the driver receives it):

1. A *bot relation* is a table or view with a ``bot_id`` column. Every reference to one, in
   every SELECT, UPDATE, DELETE, subquery and CTE body, must be *pinned*:

   * directly: a top-level conjunct of the scope's WHERE, or of the ON of the join that brings
     it in, is ``<ref>.bot_id = <bind>`` (either side; a bind is a placeholder, possibly inside
     ``CAST(... AS type)`` or followed by ``::type``). An unqualified ``bot_id`` pins the one
     bot relation of its scope. A conjunct under OR, or ``bot_id = ANY(...)``/``IN (...)`` over
     a list, pins nothing: those admit several bots;
   * or through a join: a top-level conjunct ``<ref>.bot_id = <other>.bot_id`` with ``other``
     pinned (in this scope or, for a correlated subquery, an enclosing one).

   A reference to a CTE or a derived table (a subquery in FROM, VALUES, a table function such
   as ``unnest`` or ``json_each``) needs no pin itself: the relations inside it are checked
   where they are.
2. A *child relation* (a table without ``bot_id`` whose foreign key points at a bot relation,
   e.g. ``intraday_snapshot_symbols`` -> ``intraday_snapshots``) is pinned through a join
   conjunct ``child.<fk column> = parent.<key>`` with the parent pinned.
3. ``INSERT INTO <bot relation>`` names ``bot_id`` among its columns, and the value in that
   position is a bind (every VALUES row) or, for INSERT ... SELECT, a bind or the ``bot_id`` of
   a pinned relation of that SELECT. ``COPY <bot relation> (...) FROM STDIN`` names ``bot_id``
   among its columns (its value is in the data stream, which a statement listener cannot see).
4. Transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) and statements on the
   connection's own temporary tables (``pg_temp.*``) touch no bot's rows. Any other statement
   whose shape the checker does not know is reported, never passed.

The checker tokenizes the statement (string literals, quoted names, placeholders and comments
kept apart) and nests it by parentheses; it knows the clause structure of SELECT, INSERT,
UPDATE, DELETE, WITH and COPY, which is all tradestore sends. It does not evaluate anything:
``bot_id = ? OR true`` is refused (OR), ``bot_id = ?`` with a bind of another bot would pass
(the workload binds one bot; what is bound is the repository's ``self._bot_id``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# --- tokens and groups ----------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^']|'')*')
  | (?P<qident>"(?:[^"]|"")*")
  | (?P<param>%\([^)]+\)s|%s|\?|\$\d+)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<op>::|<>|!=|<=|>=|\|\||->>|->|[(),.;=<>+\-*/%|&~^\[\]:])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str  # word, qident, string, param, number, op
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else self.text

    @property
    def name(self) -> str:
        """An identifier's name: lower-cased word, or a quoted name as written."""
        if self.kind == "qident":
            return self.text[1:-1].replace('""', '"')
        return self.text.lower()


@dataclass
class Group:
    """A parenthesised part of the statement."""

    items: list[Item] = field(default_factory=list)


Item = Token | Group


def parse(sql: str) -> list[Item]:
    stack: list[list[Item]] = [[]]
    position = 0
    while position < len(sql):
        match = _TOKEN.match(sql, position)
        if match is None:
            raise ValueError(f"cannot tokenize at {sql[position : position + 40]!r}")
        position = match.end()
        kind = match.lastgroup
        assert kind is not None
        if kind in ("space", "comment"):
            continue
        text = match.group()
        if text == "(":
            stack.append([])
        elif text == ")":
            inner = stack.pop()
            stack[-1].append(Group(inner))
        else:
            stack[-1].append(Token(kind, text))
    if len(stack) != 1:
        raise ValueError("unbalanced parentheses")
    items = stack[0]
    while items and isinstance(items[-1], Token) and items[-1].text == ";":
        items.pop()
    return items


def _is(item: Item | None, *words: str) -> bool:
    return isinstance(item, Token) and item.kind == "word" and item.upper in words


def _token(items: Sequence[Item], position: int) -> Token | None:
    """The token at ``position``; None past the end or for a parenthesised group."""
    if 0 <= position < len(items):
        item = items[position]
        return item if isinstance(item, Token) else None
    return None


def _alias_word(item: Token | None) -> bool:
    """A name that can be an alias (not the keyword of the next clause)."""
    return item is not None and item.kind in ("word", "qident") and not _is(item, *_KEYWORDS)


def _split(items: Sequence[Item], *, on: str) -> list[list[Item]]:
    parts: list[list[Item]] = [[]]
    for item in items:
        if isinstance(item, Token) and item.text == on:
            parts.append([])
        else:
            parts[-1].append(item)
    return parts


def _starts_query(items: Sequence[Item]) -> bool:
    return bool(items) and _is(items[0], "SELECT", "WITH", "VALUES")


# --- what the checker knows of the schema ---------------------------------------------------


@dataclass(frozen=True)
class Schema:
    #: tables and views with a bot_id column
    bot_relations: frozenset[str]
    #: child table -> (its foreign key column, the parent bot relation, the parent's column)
    children: Mapping[str, tuple[str, str, str]]


@dataclass(frozen=True)
class _Ref:
    alias: str
    relation: str | None  # None: a CTE, a derived table or a table function
    kind: str  # bot, child, shared, derived


@dataclass
class Finding:
    reason: str


class _Scope:
    def __init__(self, refs: list[_Ref], outer: Mapping[str, _Ref], outer_pinned: set[str]):
        self.refs = refs
        self.by_alias = {ref.alias: ref for ref in refs}
        self.outer = outer
        self.pinned: set[str] = set(outer_pinned)

    def resolve(self, qualifier: str | None) -> _Ref | None:
        if qualifier is None:
            bots = [ref for ref in self.refs if ref.kind == "bot"]
            return bots[0] if len(bots) == 1 else None
        return self.by_alias.get(qualifier) or self.outer.get(qualifier)


class Checker:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        #: every table or view the last checked statement names (CTEs and pg_temp left out)
        self.touched: set[str] = set()

    # -- entry -------------------------------------------------------------------------------

    def check(self, sql: str) -> list[str]:
        """The reasons ``sql`` is not scoped to one bot (empty: it is)."""
        findings: list[Finding] = []
        self.touched = set()
        try:
            items = parse(sql)
        except ValueError as exc:
            return [f"unparsable: {exc}"]
        self._statement(items, findings, {}, set(), set())
        return [finding.reason for finding in findings]

    # -- statements --------------------------------------------------------------------------

    def _statement(
        self,
        items: list[Item],
        findings: list[Finding],
        outer: Mapping[str, _Ref],
        outer_pinned: set[str],
        ctes: set[str],
    ) -> _Scope | None:
        if not items:
            return None
        first = items[0]
        if _is(first, "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END"):
            return None
        if _is(first, "WITH"):
            return self._with(items, findings, outer, outer_pinned, ctes)
        if _is(first, "SELECT", "VALUES"):
            return self._compound(items, findings, outer, outer_pinned, ctes)
        if _is(first, "INSERT"):
            self._insert(items, findings, outer, outer_pinned, ctes)
            return None
        if _is(first, "UPDATE"):
            return self._update(items, findings, outer, outer_pinned, ctes)
        if _is(first, "DELETE"):
            return self._delete(items, findings, outer, outer_pinned, ctes)
        if _is(first, "COPY"):
            self._copy(items, findings)
            return None
        if self._temporary_only(items):
            return None
        findings.append(Finding(f"a statement of unknown shape ({_text(items[:3])} ...)"))
        return None

    def _temporary_only(self, items: list[Item]) -> bool:
        """CREATE TEMPORARY TABLE / TRUNCATE of the connection's own staging tables."""
        words = [item.upper for item in items[:4] if isinstance(item, Token)]
        if words[:2] in (["CREATE", "TEMPORARY"], ["CREATE", "TEMP"]):
            return True
        if words[:1] == ["TRUNCATE"]:
            names = [item for item in items[1:] if isinstance(item, Token)]
            return bool(names) and names[0].name == "pg_temp"
        return False

    def _with(
        self,
        items: list[Item],
        findings: list[Finding],
        outer: Mapping[str, _Ref],
        outer_pinned: set[str],
        ctes: set[str],
    ) -> _Scope | None:
        position = 1
        if _is(items[position], "RECURSIVE"):
            position += 1
        names = set(ctes)
        bodies: list[list[Item]] = []
        while True:
            name = _token(items, position)
            assert name is not None
            names.add(name.name)
            position += 1
            if isinstance(items[position], Group):  # a column list
                position += 1
            assert _is(items[position], "AS"), _text(items[position : position + 3])
            position += 1
            while _is(items[position], "NOT", "MATERIALIZED"):
                position += 1
            body = items[position]
            assert isinstance(body, Group)
            bodies.append(body.items)
            position += 1
            comma = _token(items, position)
            if comma is not None and comma.text == ",":
                position += 1
                continue
            break
        for statement in bodies:
            self._statement(statement, findings, outer, outer_pinned, names)
        return self._statement(items[position:], findings, outer, outer_pinned, names)

    def _compound(
        self,
        items: list[Item],
        findings: list[Finding],
        outer: Mapping[str, _Ref],
        outer_pinned: set[str],
        ctes: set[str],
    ) -> _Scope | None:
        parts: list[list[Item]] = [[]]
        for item in items:
            if _is(item, "UNION", "INTERSECT", "EXCEPT"):
                parts.append([])
            elif _is(item, "ALL", "DISTINCT") and parts[-1] == [] and len(parts) > 1:
                continue
            else:
                parts[-1].append(item)
        scope = None
        for part in parts:
            if len(part) == 1 and isinstance(part[0], Group):
                part = part[0].items
            found = self._select(part, findings, outer, outer_pinned, ctes)
            scope = scope or found
        return scope if len(parts) == 1 else None

    def _select(
        self,
        items: list[Item],
        findings: list[Finding],
        outer: Mapping[str, _Ref],
        outer_pinned: set[str],
        ctes: set[str],
    ) -> _Scope | None:
        if _is(items[0], "VALUES"):
            self._subqueries(items, findings, outer, outer_pinned, ctes)
            return None
        clauses = _clauses(items, ("FROM", "WHERE", "GROUP", "HAVING", "WINDOW", "ORDER",
                                   "LIMIT", "OFFSET", "FOR", "RETURNING"))  # fmt: skip
        refs, ons = self._from(clauses.get("FROM", []), findings, outer, outer_pinned, ctes)
        scope = self._scope(refs, ons, clauses.get("WHERE", []), outer, outer_pinned)
        self._require(scope, findings)
        self._subqueries(items, findings, {**outer, **scope.by_alias}, scope.pinned, ctes)
        return scope

    def _update(
        self,
        items: list[Item],
        findings: list[Finding],
        outer: Mapping[str, _Ref],
        outer_pinned: set[str],
        ctes: set[str],
    ) -> _Scope:
        target, rest = self._target(items[1:], ctes)
        clauses = _clauses(rest, ("SET", "FROM", "WHERE", "RETURNING"))
        refs, ons = self._from(clauses.get("FROM", []), findings, outer, outer_pinned, ctes)
        scope = self._scope([target, *refs], ons, clauses.get("WHERE", []), outer, outer_pinned)
        self._require(scope, findings)
        self._subqueries(rest, findings, {**outer, **scope.by_alias}, scope.pinned, ctes)
        return scope

    def _delete(
        self,
        items: list[Item],
        findings: list[Finding],
        outer: Mapping[str, _Ref],
        outer_pinned: set[str],
        ctes: set[str],
    ) -> _Scope:
        assert _is(items[1], "FROM")
        target, rest = self._target(items[2:], ctes)
        clauses = _clauses(rest, ("USING", "WHERE", "RETURNING"))
        refs, ons = self._from(clauses.get("USING", []), findings, outer, outer_pinned, ctes)
        scope = self._scope([target, *refs], ons, clauses.get("WHERE", []), outer, outer_pinned)
        self._require(scope, findings)
        self._subqueries(rest, findings, {**outer, **scope.by_alias}, scope.pinned, ctes)
        return scope

    def _insert(
        self,
        items: list[Item],
        findings: list[Finding],
        outer: Mapping[str, _Ref],
        outer_pinned: set[str],
        ctes: set[str],
    ) -> None:
        position = 1
        if _is(items[position], "OR"):
            position += 2
        assert _is(items[position], "INTO")
        target, rest = self._target(items[position + 1 :], ctes)
        columns: list[str] = []
        if rest and isinstance(rest[0], Group):
            columns = [_name(part) for part in _split(rest[0].items, on=",")]
            rest = rest[1:]
        source, tail = _source_and_tail(rest)
        if target.kind == "child":
            findings.append(Finding(f"INSERT INTO {target.relation}: a child table (no bot_id)"))
        needs_bot = target.kind == "bot"
        if needs_bot and "bot_id" not in columns:
            findings.append(Finding(f"INSERT INTO {target.relation} without a bot_id column"))
            needs_bot = False
        index = columns.index("bot_id") if needs_bot else -1
        if source and _is(source[0], "VALUES"):
            for row in (item for item in source[1:] if isinstance(item, Group)):
                values = _split(row.items, on=",")
                if needs_bot and not _is_bind(values[index]):
                    findings.append(
                        Finding(f"INSERT INTO {target.relation}: bot_id is {_text(values[index])}")
                    )
            self._subqueries(source, findings, outer, outer_pinned, ctes)
        elif source:
            query = source[0].items if len(source) == 1 and isinstance(source[0], Group) else source
            scope = self._statement(query, findings, outer, outer_pinned, ctes)
            if needs_bot:
                self._inserted_bot(query, index, scope, target, findings)
        # ON CONFLICT ... DO UPDATE SET ... WHERE, RETURNING: subqueries there are checked too
        self._subqueries(tail, findings, outer, outer_pinned, ctes)

    def _inserted_bot(
        self,
        query: list[Item],
        index: int,
        scope: _Scope | None,
        target: _Ref,
        findings: list[Finding],
    ) -> None:
        if _is(query[0], "WITH") or scope is None:
            findings.append(Finding(f"INSERT INTO {target.relation}: cannot follow bot_id"))
            return
        select_list, _ = _until(query[1:], ("FROM", "WHERE", "GROUP", "ORDER", "LIMIT"))
        if select_list and _is(select_list[0], "DISTINCT"):
            select_list = select_list[1:]
        value = _strip_alias(_split(select_list, on=",")[index])
        if _is_bind(value):
            return
        column = _column(value)
        if column is not None and column[1] == "bot_id":
            ref = scope.resolve(column[0])
            if ref is not None and ref.alias in scope.pinned:
                return
        findings.append(Finding(f"INSERT INTO {target.relation}: bot_id is {_text(value)}"))

    def _copy(self, items: list[Item], findings: list[Finding]) -> None:
        target, rest = self._target(items[1:], set())
        if target.kind in ("bot", "child"):
            columns = (
                [_name(part) for part in _split(rest[0].items, on=",")]
                if rest and isinstance(rest[0], Group)
                else []
            )
            if "bot_id" not in columns:
                findings.append(Finding(f"COPY {target.relation} without a bot_id column"))

    # -- pieces ------------------------------------------------------------------------------

    def _kind(self, relation: str) -> str:
        if relation in self.schema.bot_relations:
            return "bot"
        if relation in self.schema.children:
            return "child"
        return "shared"

    def _target(self, items: Sequence[Item], ctes: set[str]) -> tuple[_Ref, list[Item]]:
        """``name [AS alias]`` at the start of ``items``; the rest."""
        first = _token(items, 0)
        assert first is not None, _text(items[:3])
        names = [first]
        position = 0
        while (dot := _token(items, position + 1)) is not None and dot.text == ".":
            part = _token(items, position + 2)
            assert part is not None
            names.append(part)
            position += 2
        relation = names[-1].name
        schema = names[0].name if len(names) > 1 else None
        position += 1
        alias = relation
        following = _token(items, position)
        if _is(following, "AS"):
            named = _token(items, position + 1)
            assert named is not None
            alias = named.name
            position += 2
        elif _alias_word(following):
            assert following is not None
            alias = following.name
            position += 1
        if schema == "pg_temp" or relation in ctes:
            return _Ref(alias, None, "derived"), list(items[position:])
        self.touched.add(relation)
        return _Ref(alias, relation, self._kind(relation)), list(items[position:])

    def _from(
        self,
        items: list[Item],
        findings: list[Finding],
        outer: Mapping[str, _Ref],
        outer_pinned: set[str],
        ctes: set[str],
    ) -> tuple[list[_Ref], list[list[Item]]]:
        """The relations a FROM list brings in, and the ON conditions of its joins."""
        refs: list[_Ref] = []
        ons: list[list[Item]] = []
        position = 0
        while position < len(items):
            item = items[position]
            if isinstance(item, Token) and item.text == ",":
                position += 1
                continue
            if _is(item, *_JOIN_WORDS):
                position += 1
                continue
            if _is(item, "ON"):
                condition, _ = _until(items[position + 1 :], (",", *_JOIN_WORDS))
                ons.append(condition)
                position += 1 + len(condition)
                continue
            if _is(item, "USING"):
                position += 2
                continue
            if _is(item, "LATERAL"):
                position += 1
                continue
            # a relation: name [AS alias] | (subquery) [AS] alias | function(...) [AS] alias
            if isinstance(item, Group) or (
                position + 1 < len(items) and isinstance(items[position + 1], Group)
            ):
                position += 1 if isinstance(item, Group) else 2
                alias = None
                if position < len(items) and _is(items[position], "AS"):
                    position += 1
                named = _token(items, position)
                if _alias_word(named):
                    assert named is not None
                    alias = named.name
                    position += 1
                if position < len(items) and isinstance(items[position], Group):
                    position += 1  # column aliases: AS v(a, b)
                refs.append(_Ref(alias or f"<derived {len(refs)}>", None, "derived"))
                continue
            ref, rest = self._target(items[position:], ctes)
            refs.append(ref)
            position = len(items) - len(rest)
        return refs, ons

    def _scope(
        self,
        refs: list[_Ref],
        ons: list[list[Item]],
        where: list[Item],
        outer: Mapping[str, _Ref],
        outer_pinned: set[str],
    ) -> _Scope:
        scope = _Scope(refs, outer, outer_pinned)
        conjuncts = [c for condition in (*ons, where) for c in _conjuncts(condition)]
        edges: list[tuple[str, str]] = []
        for conjunct in conjuncts:
            sides = _equality(conjunct)
            if sides is None:
                continue
            left, right = sides
            for a, b in ((left, right), (right, left)):
                column = _column(a)
                if column is None:
                    continue
                ref = scope.resolve(column[0])
                if ref is None:
                    continue
                if column[1] == "bot_id" and _is_bind(b):
                    scope.pinned.add(ref.alias)
                other = _column(b)
                if other is None:
                    continue
                other_ref = scope.resolve(other[0])
                if other_ref is None:
                    continue
                if column[1] == "bot_id" and other[1] == "bot_id":
                    edges.append((ref.alias, other_ref.alias))
                if ref.kind == "child" and ref.relation is not None:
                    fk, parent, key = self.schema.children[ref.relation]
                    if column[1] == fk and other[1] == key and other_ref.relation == parent:
                        edges.append((ref.alias, other_ref.alias))
        changed = True
        while changed:
            changed = False
            for joined, through in edges:
                if through in scope.pinned and joined not in scope.pinned:
                    scope.pinned.add(joined)
                    changed = True
        return scope

    def _require(self, scope: _Scope, findings: list[Finding]) -> None:
        for ref in scope.refs:
            if ref.kind in ("bot", "child") and ref.alias not in scope.pinned:
                findings.append(
                    Finding(f"{ref.relation} (as {ref.alias}) is not constrained to one bot_id")
                )

    def _subqueries(
        self,
        items: Sequence[Item],
        findings: list[Finding],
        outer: Mapping[str, _Ref],
        outer_pinned: set[str],
        ctes: set[str],
    ) -> None:
        for item in items:
            if not isinstance(item, Group):
                continue
            if _starts_query(item.items):
                self._statement(item.items, findings, outer, outer_pinned, ctes)
            else:
                self._subqueries(item.items, findings, outer, outer_pinned, ctes)


# --- expressions ----------------------------------------------------------------------------

_JOIN_WORDS = ("JOIN", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "NATURAL")
_KEYWORDS = frozenset(
    {
        "WHERE", "SET", "FROM", "USING", "ON", "JOIN", "INNER", "LEFT", "RIGHT", "FULL",
        "OUTER", "CROSS", "NATURAL", "GROUP", "ORDER", "LIMIT", "OFFSET", "HAVING", "WINDOW",
        "FOR", "RETURNING", "VALUES", "SELECT", "DEFAULT", "UNION", "INTERSECT", "EXCEPT",
        "LATERAL", "AS",
    }
)  # fmt: skip


def _clauses(items: Sequence[Item], keywords: Iterable[str]) -> dict[str, list[Item]]:
    """Top-level clauses by their keyword; GROUP, ORDER start one only before BY (not
    ``WITHIN GROUP (...)``), FOR only before UPDATE/NO/SHARE/KEY (a locking clause)."""
    wanted = set(keywords)
    found: dict[str, list[Item]] = {}
    current: list[Item] | None = None
    for position, item in enumerate(items):
        following = items[position + 1] if position + 1 < len(items) else None
        starts = _is(item, *wanted)
        if starts and _is(item, "GROUP", "ORDER"):
            starts = _is(following, "BY")
        elif starts and _is(item, "FOR"):
            starts = _is(following, "UPDATE", "NO", "SHARE", "KEY")
        if starts:
            assert isinstance(item, Token)
            current = found.setdefault(item.upper, []) if item.upper not in found else []
            continue
        if current is not None:
            current.append(item)
    return found


def _until(items: Sequence[Item], stops: Iterable[str]) -> tuple[list[Item], list[Item]]:
    stop = set(stops)
    for position, item in enumerate(items):
        if isinstance(item, Token) and (item.upper in stop or item.text in stop):
            return list(items[:position]), list(items[position:])
    return list(items), []


def _source_and_tail(items: Sequence[Item]) -> tuple[list[Item], list[Item]]:
    """An INSERT's VALUES or query, and what follows it (ON CONFLICT ..., RETURNING ...)."""
    for position, item in enumerate(items):
        following = items[position + 1] if position + 1 < len(items) else None
        if (_is(item, "ON") and _is(following, "CONFLICT")) or _is(item, "RETURNING"):
            return list(items[:position]), list(items[position:])
    return list(items), []


def _conjuncts(items: Sequence[Item]) -> list[list[Item]]:
    """Top-level AND-ed parts; none at all if the condition has a top-level OR."""
    if not items:
        return []
    if any(_is(item, "OR") for item in items):
        return []
    parts: list[list[Item]] = [[]]
    between = False
    for item in items:
        if _is(item, "BETWEEN"):
            between = True
        if _is(item, "AND"):
            if between:
                between = False
            else:
                parts.append([])
                continue
        parts[-1].append(item)
    flat: list[list[Item]] = []
    for part in parts:
        if len(part) == 1 and isinstance(part[0], Group) and not _starts_query(part[0].items):
            flat.extend(_conjuncts(part[0].items))
        else:
            flat.append(part)
    return flat


def _equality(items: Sequence[Item]) -> tuple[list[Item], list[Item]] | None:
    positions = [i for i, item in enumerate(items) if isinstance(item, Token) and item.text == "="]
    if len(positions) != 1:
        return None
    return list(items[: positions[0]]), list(items[positions[0] + 1 :])


def _is_bind(items: Sequence[Item]) -> bool:
    """A placeholder, ``CAST(<placeholder> AS type)`` or ``<placeholder>::type``."""
    items = list(items)
    if len(items) >= 3 and isinstance(items[1], Token) and items[1].text == "::":
        items = items[:1]
    if len(items) == 1 and isinstance(items[0], Token):
        return items[0].kind == "param"
    if len(items) == 2 and _is(items[0], "CAST") and isinstance(items[1], Group):
        inner, _ = _until(items[1].items, ("AS",))
        return _is_bind(inner)
    return False


def _column(items: Sequence[Item]) -> tuple[str | None, str] | None:
    """``[qualifier.]name`` as (qualifier, name), else None."""
    tokens = list(items)
    if not all(isinstance(t, Token) for t in tokens):
        return None
    if len(tokens) == 1 and tokens[0].kind in ("word", "qident"):  # type: ignore[union-attr]
        return None, tokens[0].name  # type: ignore[union-attr]
    if (
        len(tokens) == 3
        and tokens[1].text == "."  # type: ignore[union-attr]
        and tokens[0].kind in ("word", "qident")  # type: ignore[union-attr]
    ):
        return tokens[0].name, tokens[2].name  # type: ignore[union-attr]
    return None


def _strip_alias(items: list[Item]) -> list[Item]:
    if len(items) >= 2 and _is(items[-2], "AS"):
        return items[:-2]
    return items


def _name(items: Sequence[Item]) -> str:
    tokens = [item for item in items if isinstance(item, Token)]
    return tokens[-1].name if tokens else ""


def _text(items: Iterable[Item]) -> str:
    out: list[str] = []
    for item in items:
        out.append(item.text if isinstance(item, Token) else f"({_text(item.items)})")
    return " ".join(out)
