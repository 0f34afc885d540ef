"""Teachers: the typed specs a config names, the old string forms, and each kind of teacher."""

import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

import envs  # noqa: F401  (registers the rlcourse/* env ids)
from agents.dqn.config import TeacherStart
from agents.imitation import BehaviourCloningConfig, record_episode
from agents.teachers import (
    InfoInputTeacher,
    PlannerTeacherSpec,
    PlanningTeacher,
    PolicyTeacher,
    PolicyTeacherSpec,
    RunTeacherSpec,
    TeacherSpec,
    load_teacher,
    make_teacher,
    reads_true_state,
)
from agents.training import load_experiment, train

ROOT = Path(__file__).resolve().parent.parent
BC_CONFIG = ROOT / "configs" / "rn4x3" / "behaviour_cloning.yaml"
VI_CONFIG = ROOT / "configs" / "rn4x3" / "value_iteration.yaml"
RULES = "envs.dialogue:RulePolicy"
SPEC = TypeAdapter(TeacherSpec)


# ----------------------------------------------------------------------------- specs


def test_each_spec_is_told_by_its_key():
    assert SPEC.validate_python({"planner": "policy_iteration", "gamma": 0.9}) == (
        PlannerTeacherSpec(planner="policy_iteration", gamma=0.9)
    )
    assert SPEC.validate_python({"run": "runs/x"}) == RunTeacherSpec(run="runs/x")
    assert SPEC.validate_python({"policy": RULES, "input": "belief"}) == (
        PolicyTeacherSpec(policy=RULES, input="belief")
    )
    with pytest.raises(ValidationError, match=r"expected \{planner: .*\{run: RUN_DIR\}"):
        SPEC.validate_python({"teacher": RULES})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        SPEC.validate_python({"run": "runs/x", "gamma": 0.9})  # gamma only for planners


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("value_iteration", PlannerTeacherSpec(planner="value_iteration"), '{planner: "value_'),
        (RULES, PolicyTeacherSpec(policy=RULES), '{policy: "envs.dialogue:RulePolicy"}'),
        ("runs/rn4x3/vi", RunTeacherSpec(run="runs/rn4x3/vi"), '{run: "runs/rn4x3/vi"}'),
    ],
)
def test_an_old_string_is_read_as_its_spec_with_one_warning_naming_it(old, new, named):
    with pytest.warns(FutureWarning, match="is deprecated") as caught:
        assert SPEC.validate_python(old) == new
    assert len(caught) == 1 and f"write teacher: {named}" in str(caught[0].message)


def test_an_old_string_that_names_no_teacher_is_refused():
    with pytest.raises(ValidationError, match=r"\{policy: 'module:Class'\}.*'rule policy'"):
        SPEC.validate_python("rule policy")


def test_old_behaviour_cloning_keys_move_into_the_teacher_spec():
    old = {"teacher": RULES, "teacher_input": "belief", "gamma": 1.0, "theta": 1e-10}
    with pytest.warns(FutureWarning, match=r"write teacher: \{policy: .*, input: \"belief\"\}"):
        config = BehaviourCloningConfig(**old)
    assert config.teacher == PolicyTeacherSpec(policy=RULES, input="belief")
    with pytest.warns(FutureWarning):
        config = BehaviourCloningConfig(teacher="value_iteration", gamma=0.9, teacher_input=None)
    assert config.teacher == PlannerTeacherSpec(planner="value_iteration", gamma=0.9)


def test_the_typed_configs_read_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        for name in ("rn4x3/behaviour_cloning", "dialogue/bc_text", "dialogue/dqn"):
            load_experiment(ROOT / "configs" / f"{name}.yaml")


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("envs.dialogue:RulePolicyy", "module 'envs.dialogue' has no attribute 'RulePolicyy'"),
        ("envs.dialog:RulePolicy", "cannot import module 'envs.dialog'"),
        ("envs.dialogue:DONT_CARE", "has no class 'DONT_CARE'"),
        ("envs.dialogue:Goal", "Goal has no act(obs, info) method"),
        ("rule policy", "module:Class"),
    ],
)
def test_a_bad_policy_class_is_refused_with_the_config(policy, message):
    from rlcourse.config import ConfigError

    with pytest.raises(ConfigError, match=r"agent\.teacher") as caught:
        load_experiment(BC_CONFIG, [f"agent.teacher={{policy: '{policy}'}}"])
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "suggestion"),
    [
        ("{run: some/run, inptu: belief}", "did you mean 'input'? (valid keys: input, run)"),
        ("{planner: value_iteration, tehta: 0.1}", "(valid keys: gamma, planner, theta)"),
    ],
)
def test_a_misspelt_key_is_named_with_the_keys_of_its_own_kind_of_teacher(spec, suggestion):
    from rlcourse.config import ConfigError

    with pytest.raises(ConfigError, match=r"agent\.teacher\.\w+: unknown key") as caught:
        load_experiment(BC_CONFIG, [f"agent.teacher={spec}"])
    assert suggestion in str(caught.value)


def test_a_bad_policy_class_in_the_old_string_form_is_refused_with_the_config():
    from rlcourse.config import ConfigError

    with pytest.raises(ConfigError, match=r"agent\.teacher: .*no attribute 'RulePolicyy'"):
        load_experiment(BC_CONFIG, ["agent.teacher=envs.dialogue:RulePolicyy"])


def test_dqn_refuses_a_planner_which_reads_the_true_state():
    with pytest.raises(ValidationError, match="reads the true state"):
        TeacherStart(teacher={"planner": "value_iteration"}, steps=10)


# ----------------------------------------------------------------------------- teachers


def test_a_planning_teacher_acts_on_the_true_state_and_needs_it():
    env = gym.make("rlcourse/RussellNorvig4x3-v0", obs_type="onehot")
    teacher = make_teacher(PlannerTeacherSpec(planner="value_iteration"), env)
    assert isinstance(teacher, PlanningTeacher) and reads_true_state(teacher)
    obs, info = env.reset(options={"state": 8})
    assert teacher.act(obs, info) == 0  # R&N Fig. 17.2: up from the start (2, 0)
    with pytest.raises(TypeError, match=r"env\.unwrapped\.s"):
        make_teacher(PlannerTeacherSpec(planner="value_iteration"), gym.make("CartPole-v1"))


def test_a_policy_class_teacher_is_built_from_the_env_and_acts_on_observations():
    env = gym.make("rlcourse/InCarDialogue-v0", slot_error=0.15)
    teacher = make_teacher(PolicyTeacherSpec(policy=RULES), env)
    assert isinstance(teacher, PolicyTeacher) and not reads_true_state(teacher)
    assert teacher.policy.ontology is env.unwrapped.ontology  # the env's, not a fresh default
    obs, info = env.reset(seed=0)
    assert teacher.act(obs, info) == teacher.policy.act(obs, info)


def test_an_input_key_shows_the_teacher_that_info_entry():
    text = gym.make("rlcourse/InCarDialogueText-v0")
    teacher = make_teacher(PolicyTeacherSpec(policy=RULES, input="belief"), text)
    assert isinstance(teacher, InfoInputTeacher)
    obs, info = text.reset(seed=0)
    assert teacher.act(obs, info) == teacher.teacher.policy.act(info["belief"], info)
    belief_env = gym.make("rlcourse/InCarDialogue-v0")  # puts no belief in info
    missing = make_teacher(PolicyTeacherSpec(policy=RULES, input="belief"), belief_env)
    with pytest.raises(ValueError, match=r"teacher input 'belief': the env's info has no such key"):
        record_episode(belief_env, missing, np.random.default_rng(0))


def test_a_run_teacher_is_checked_against_the_env(runs_dir):
    teacher_run = train(load_experiment(VI_CONFIG, [f"train.runs_dir={runs_dir}"]), progress=False)
    onehot = gym.make("rlcourse/RussellNorvig4x3-v0", obs_type="onehot")
    teacher = make_teacher(RunTeacherSpec(run=str(teacher_run.run_dir)), onehot)
    assert reads_true_state(teacher)  # trained on state indices, shown the state
    obs, info = onehot.reset(options={"state": 8})
    assert teacher.act(obs, info) == 0
    cliff = gym.make("rlcourse/CliffWalking-v0", obs_type="onehot")
    with pytest.raises(ValueError, match="was trained on rlcourse/RussellNorvig4x3-v0"):
        load_teacher(teacher_run.run_dir, cliff)
    with pytest.raises(FileNotFoundError, match="no such run directory"):
        load_teacher(runs_dir / "missing", cliff)


# ----------------------------------------------------------------------------- imports


def agents_modules():
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / "agents").rglob("*.py")
    )


ON_ITS_OWN = """
import importlib, sys
failed = {}
for module in sys.argv[1:]:
    for name in [n for n in sys.modules if n == "agents" or n.startswith("agents.")]:
        del sys.modules[name]  # torch, gymnasium and envs stay: only agents/ is imported anew
    try:
        importlib.import_module(module)
    except Exception as exc:
        failed[module] = repr(exc)
print(failed)
sys.exit(1 if failed else 0)
"""


def test_every_agents_module_imports_on_its_own():
    """Each module of agents/ imported first, in turn, with no other agents module loaded: an
    import cycle fails whichever of its modules is entered first."""
    done = subprocess.run(
        [sys.executable, "-c", ON_ITS_OWN, *agents_modules()], capture_output=True, text=True,
        cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_every_agents_module_imports_in_a_fresh_interpreter():
    """The same, with a fresh interpreter per module (a minute or more on two cores)."""
    for module in agents_modules():
        done = subprocess.run(
            [sys.executable, "-c", ON_ITS_OWN, module], capture_output=True, text=True, cwd=ROOT
        )
        assert done.returncode == 0, done.stdout + done.stderr
