"""scripts/profile_selfplay.py: self-play under cProfile, its time split into parts."""

from pathlib import Path

from scripts.profile_selfplay import main, part_of

ROOT = Path(__file__).resolve().parent.parent


def test_profiled_functions_fall_into_the_parts_by_file_and_name():
    assert part_of("~", "<built-in method torch.conv2d>") == "network"
    assert part_of("/x/torch/nn/modules/module.py", "_call_impl") == "network"
    assert part_of("/repo/agents/alphazero/mcts.py", "_expand") == "tree search"
    assert part_of("/repo/agents/alphazero/gumbel.py", "completed_q") == "tree search"
    assert part_of("~", "<method 'planes' of 'envs.go._core.State' objects>") == "game rules"
    assert part_of("/repo/agents/alphazero/selfplay.py", "_move") == "other"


def test_the_script_profiles_games_and_splits_their_time(capsys):
    config = str(ROOT / "configs" / "tictactoe" / "alphazero.yaml")
    assert main([config, "agent.mcts.simulations=4", "--games", "2", "--top", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2 games, ") and "games/s" in lines[0]
    shares = {line.split()[0]: float(line.split()[-1].rstrip("%")) for line in lines[1:5]}
    assert set(shares) == {"network", "tree", "game", "other"}
    assert abs(sum(shares.values()) - 100.0) < 0.5 and shares["network"] > 0
