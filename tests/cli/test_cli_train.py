"""`train` run in process through `cli.main` on a library the user corrected: the report,
rollback, and the target precision it remembers."""

from __future__ import annotations

import pytest

from photo_tagger import cli
from photo_tagger.core import service
from photo_tagger.core.tagging import ensure_tag, set_state


def test_cli_train_prints_the_report_and_rolls_back(corrected, capsys) -> None:
    library, ids = corrected
    with library.connect() as catalogue:
        set_state(catalogue, ids["chelsea"][:1], ensure_tag(catalogue, "Mittens"), "confirmed")
    assert cli.main(["train", str(library.root)]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "Eileen" in out and "AP before" in out and "mAP" in out and "Hamming loss" in out
    mittens = next(line for line in out.splitlines() if line.startswith("Mittens"))
    assert "too few examples (1 confirmed" in mittens and "not suggested yet" in mittens
    assert cli.main(["train", str(library.root), "--rollback"]) == cli.EXIT_OK
    assert "starting model" in capsys.readouterr().out
    assert cli.main(["train", str(library.root), "--rollback"]) == cli.EXIT_USER_ERROR


def test_cli_train_takes_a_target_precision_and_refuses_a_bad_one(corrected, capsys) -> None:
    library, _ = corrected
    with pytest.raises(SystemExit) as usage:
        cli.main(["train", str(library.root), "--target-precision", "1.5"])
    assert usage.value.code == cli.EXIT_USAGE and "between 0 and 1" in capsys.readouterr().err
    assert cli.main(["train", str(library.root), "--target-precision", "0.9"]) == cli.EXIT_OK
    assert "precision 0.90" in capsys.readouterr().out
    assert service.training_target_precision(library) == 0.9
    assert cli.main(["train", str(library.root), "--target-precision", "f1"]) == cli.EXIT_OK
    assert service.training_target_precision(library) is None
