"""The package's shape: no import loop between its modules, no module reaching into another's private names."""

import ast
from pathlib import Path

import genrl_lib

PKG = Path(genrl_lib.__file__).parent


def _modules() -> dict[str, ast.Module]:
    mods = {}
    for path in sorted(PKG.rglob("*.py")):
        name = ".".join(("genrl_lib", *path.relative_to(PKG).with_suffix("").parts)).removesuffix(".__init__")
        mods[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return mods


def import_graph(mods: dict[str, ast.Module]) -> dict[str, set[str]]:
    """Module -> the package modules it imports, at the top or inside a function (a lazy import is a loop too)."""
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, tree in mods.items():
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[name] |= {t for t in targets if t in mods and t != name and t != "genrl_lib"}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state and (c := visit(n)):
                return c
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (c := visit(m)):
            return c
    return None


def private_names(tree: ast.Module) -> set[str]:
    """Names a module defines: defs, classes, assigned names and ``self._x``/``cls._x`` attributes."""
    own = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                for sub in ast.walk(t):
                    if isinstance(sub, ast.Name):
                        own.add(sub.id)
                    elif (isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name)
                          and sub.value.id in ("self", "cls")):
                        own.add(sub.attr)
    return {n for n in own if n.startswith("_") and not n.startswith("__")}


def foreign_private_uses(tree: ast.Module, package_private: set[str] | None = None) -> list[str]:
    """``x._name`` accesses whose ``_name`` this module never defines but another module of the package does
    (``package_private``; default: any ``_name``), ``from genrl_lib.m import _name``, and ``cls.__new__``
    (an object built behind its constructor's back)."""
    own = private_names(tree)
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "__new__":
            bad.append(f"line {node.lineno}: .__new__")
        elif (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
              and node.attr not in own and (package_private is None or node.attr in package_private)):
            bad.append(f"line {node.lineno}: ._{node.attr[1:]}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("genrl_lib"):
            bad += [f"line {node.lineno}: import {a.name}" for a in node.names if a.name.startswith("_")]
    return bad


def test_no_import_loop():
    cycle = find_cycle(import_graph(_modules()))
    assert cycle is None, f"import loop: {' -> '.join(cycle)}; move the shared piece into a module both can import"


def test_no_module_reaches_into_another_modules_private_names():
    mods = _modules()
    package_private = set().union(*(private_names(t) for t in mods.values()))
    bad = {name: uses for name, tree in mods.items() if (uses := foreign_private_uses(tree, package_private))}
    assert not bad, f"private names of other modules used (add a public method or attribute instead): {bad}"


def test_the_checks_find_what_they_look_for():
    """The two checks above cannot pass vacuously: they see a loop and a private reach when there is one."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    tree = ast.parse("def f(agent):\n    return agent.ppo._dist_terms(1)\n")
    assert foreign_private_uses(tree) == ["line 2: ._dist_terms"]
    tree = ast.parse("class A:\n    def __init__(self):\n        self._x = 1\n    def g(self, o):\n        return o._x\n")
    assert foreign_private_uses(tree) == []
    tree = ast.parse("def load(cls):\n    return cls.__new__(cls)\n")
    assert foreign_private_uses(tree) == ["line 2: .__new__"]
    graph = import_graph({"genrl_lib.a": ast.parse("def f():\n    from genrl_lib.b import x\n"),
                          "genrl_lib.b": ast.parse("import genrl_lib.a\n")})
    assert find_cycle(graph) == ["genrl_lib.a", "genrl_lib.b", "genrl_lib.a"]


def test_every_agent_predicts_with_sb3s_signature_and_one_default():
    """predict(observation, state=None, episode_start=None, deterministic=True) everywhere, so agents swap."""
    import inspect

    from genrl_lib.bc import BehaviourCloning
    from genrl_lib.dqn import DQN
    from genrl_lib.gail import GAIL
    from genrl_lib.pg import PolicyGradient
    from genrl_lib.ppo import PPO
    from genrl_lib.protocols.buildings import StandardizedPolicy

    for cls in (PPO, PolicyGradient, DQN, GAIL, BehaviourCloning, StandardizedPolicy):
        params = inspect.signature(cls.predict).parameters
        assert list(params) == ["self", "observation", "state", "episode_start", "deterministic"], cls
        assert [params[k].default for k in ("state", "episode_start", "deterministic")] == [None, None, True], cls


def test_config_classes_are_named_after_their_algorithm():
    from genrl_lib import bc, dqn, gail, pg, ppo
    from genrl_lib.generative import GANConfig

    names = [c.__name__ for c in (ppo.PPOConfig, dqn.DQNConfig, gail.GAILConfig, pg.PGConfig, bc.BCConfig, GANConfig)]
    assert names == ["PPOConfig", "DQNConfig", "GAILConfig", "PGConfig", "BCConfig", "GANConfig"]
    assert ppo.Config is ppo.PPOConfig and dqn.Config is dqn.DQNConfig      # deprecated aliases, same class
    assert gail.Config is gail.GAILConfig and pg.Config is pg.PGConfig
