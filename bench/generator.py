"""Project generation time: ``evsuper new`` for 5, 50 and 1,000 bollards (figures printed).

For each built-in template and size, best of N runs: the generator's text alone
(``generate``); the project written (``create_project``: generate, check, first layout,
write) and loaded back (``load_project``). Then, once, the whole ``evsuper new`` command
line as a new process (interpreter start, imports and the initial users' argon2 hashes).

    .venv/bin/python bench/generator.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from evsuper.project.generate import Params, create_project, generate
from evsuper.project.loader import load_project
from evsuper.project.template import Template, available_templates, load_template

SIZES = (5, 50, 1000)


def best(repeat: int, run: Callable[[int], object]) -> float:
    """The shortest of ``repeat`` runs of ``run(i)``, in seconds."""
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        run(i)
        times.append(time.perf_counter() - start)
    return min(times)


def write_and_load(folder: Path, template: Template, params: Params) -> None:
    create_project(folder, template, params)
    load_project(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'template':10} {'bollards':>8} {'generate':>10} {'write+load':>11} {'bytes':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in available_templates():
            template = load_template(name)
            for n in SIZES:
                params = Params(bollards=n, site_name="Bench")
                size = len(generate(template, params))
                gen = best(args.repeat, lambda _, t=template, p=params: generate(t, p))
                total = best(
                    args.repeat,
                    lambda i, t=template, p=params: write_and_load(
                        Path(tmp, f"{t.name}-{p.bollards}-{i}"), t, p
                    ),
                )
                print(f"{name:10} {n:>8} {gen * 1e3:>8.1f}ms {total * 1e3:>9.1f}ms {size:>9}")
        for n in SIZES:

            def command(i: int, n: int = n) -> None:
                folder = Path(tmp, f"cli-{n}-{i}")
                new = [sys.executable, "-m", "evsuper", "new", str(folder), "--bollards", str(n)]
                subprocess.run([*new, "--template", "public-ac"], check=True, capture_output=True)

            took = best(args.repeat, command)  # the best run: the least disturbed by others
            print(f"command line `evsuper new --template public-ac --bollards {n}`: {took:.2f} s")


if __name__ == "__main__":
    main()
