"""Command line: ``spurlab demo``, ``spurlab run CONFIG``, ``spurlab reproduce SETTING`` and
``spurlab playground``.

Bad arguments print one line naming the parameter and exit with status 2 (no traceback), output
paths included (checked before any training); Ctrl-C exits with status 130 and writes nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def _run_and_report(config, arms, args):
    from .files import save_figure
    from .pipeline import run
    from .plotting import plot_result

    t = time.perf_counter()
    result = run(config, arms=arms, reference=True, progress=not args.quiet)
    print(f"spurlab {config.to_string()!r}: {result.scenario.description}")
    print(result.table())
    print(f"({result.timings['total']:.1f} s on {result.environment['device']}, "
          f"{result.environment['threads']} threads)")
    if args.figure:
        import matplotlib

        matplotlib.use("Agg")
        fig, take = plot_result(result)
        save_figure(fig, args.figure)
        print(take)
        print(f"figure: {args.figure}")
    if args.json:
        result.save(args.json)
        print(f"json: {args.json}")
    print(f"done in {time.perf_counter() - t:.1f} s")
    return result


def _report_seeds(config, arms, args):
    """The demo over several seeds: mean and spread per model, each seed's regime."""
    import json

    from .files import atomic_write_text, save_figure
    from .pipeline import run_seeds
    from .plotting import compare_models, seeds_table
    from .stats import summarize

    t = time.perf_counter()
    seeds = list(range(args.seed, args.seed + args.seeds))
    results = run_seeds(config, seeds, arms=list(arms), reference=True, progress=not args.quiet)
    print(f"spurlab {config.to_string()!r}, seeds {seeds[0]}-{seeds[-1]}: "
          f"{results[0].scenario.description}")
    print(seeds_table(results, list(arms)))
    print(f"(mean ± sd over {len(seeds)} seeds; single-seed numbers also differ across CPUs and "
          "torch versions, as float sums are taken in a different order)")
    if args.figure:
        import matplotlib

        matplotlib.use("Agg")
        fig, values = compare_models(results, list(arms))
        save_figure(fig, args.figure)
        smr = {m: summarize(v["smr"])["mean"] for m, v in values.items()}
        print(f"Takeaway: over {len(seeds)} seeds the baseline's SMR is {smr['baseline']:.1%}; "
              f"pruning the hardest leaves {smr['hardest']:.1%} (random {smr['random']:.1%}, "
              f"easiest {smr['easiest']:.1%}).")
        print(f"figure: {args.figure}")
    if args.json:
        atomic_write_text(args.json, json.dumps({"seeds": seeds,
                                                 "results": [r.to_dict() for r in results]},
                                                indent=1))
        print(f"json: {args.json}")
    print(f"done in {time.perf_counter() - t:.1f} s")
    return results


def _check_outputs(args):
    """Check every output path before any training: a run that cannot write its results should
    fail in a second, not after minutes."""
    from ._validate import check_output_path

    if args.command == "playground":
        return
    if args.command == "reproduce":
        args.out = check_output_path("--out", args.out, folder=True)
        return
    if args.json:
        args.json = check_output_path("--json", args.json)
    if args.figure:
        args.figure = check_output_path("--figure", args.figure)
        from matplotlib.backend_bases import FigureCanvasBase

        ext = os.path.splitext(args.figure)[1][1:].lower()
        formats = sorted(FigureCanvasBase.get_supported_filetypes())
        if ext and ext not in formats:
            raise ValueError(f"--figure must end in one of {', '.join('.' + f for f in formats)} "
                             f"(or have no extension: png); got {args.figure!r}")
    if args.json and args.figure and os.path.abspath(args.json) == os.path.abspath(args.figure):
        raise ValueError(f"--json and --figure must be different files; both are {args.json!r}")


def playground_command(notebook, port, *, find_spec=None):
    """The command that serves ``notebook`` as a page: Voila when it is installed (a page with
    the widgets only), else JupyterLab on the notebook; ``None`` when neither is installed."""
    import importlib.util

    find_spec = find_spec or importlib.util.find_spec
    if find_spec("voila") is not None:
        return [sys.executable, "-m", "voila", str(notebook), f"--port={port}"]
    if find_spec("jupyterlab") is not None:
        return [sys.executable, "-m", "jupyterlab", str(notebook), f"--ServerApp.port={port}"]
    return None


def _playground(args):
    import shutil
    import subprocess
    from pathlib import Path

    if args.export:
        from .explorer import export

        page = export(args.export)
        print(f"wrote {page}: the data map at every prune ratio, the cells and the galleries "
              "(open it in a browser; no server needed)")
        return 0
    if not 1 <= args.port <= 65535:
        raise ValueError(f"--port must be in 1-65535; got {args.port}")
    folder = Path(args.dir)
    if not folder.is_dir():
        raise ValueError(f"--dir must be an existing folder; got {args.dir!r}")
    notebook = folder / "playground.ipynb"
    if not notebook.exists():                   # a copy you edited is kept as it is
        shutil.copyfile(Path(__file__).parent / "data" / "playground.ipynb", notebook)
    cmd = playground_command(notebook, args.port)
    if cmd is None:
        print("spurlab: error: neither Voila nor JupyterLab is installed: pip install "
              "'spurlab[lab]' (JupyterLab) or pip install voila", file=sys.stderr)
        return 1
    print(" ".join(cmd))
    if args.print_command:
        return 0
    return subprocess.call(cmd)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="spurlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="the whole story on the embedded data: baseline vs "
                          "hardest / random / easiest / oracle pruning at the same ratio")
    demo.add_argument("--seed", type=int, default=0, help="seed of data, model and pruning")
    demo.add_argument("--seeds", type=int, default=1,
                      help="run this many seeds (--seed, --seed + 1, ...) and print the mean "
                      "and spread over them (default 1)")
    demo.add_argument("--json", metavar="PATH", help="write all numbers as JSON")
    demo.add_argument("--figure", metavar="PATH", default="spurlab-demo.png",
                      help="figure path (default: spurlab-demo.png; '' for none)")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    runp = sub.add_parser("run", help="run one config string, e.g. 'salience=0.3 seed=2'")
    runp.add_argument("config", help="config string (see spurlab.Config.to_string)")
    runp.add_argument("--arms", default="hardest,random,easiest",
                      help="comma-separated pruning arms (strategy or strategy/scope)")
    runp.add_argument("--json", metavar="PATH")
    runp.add_argument("--figure", metavar="PATH", default="")
    runp.add_argument("--quiet", action="store_true")
    rep = sub.add_parser("reproduce", help="the paper's protocol on CIFAR-10S (cifar10s; its "
                         "reference code's claim-2 experiment: cifar10s-reference), CelebA or "
                         "Waterbirds (resumable; files must be under --root or use --download; "
                         "Waterbirds has no download: place it by hand, see spurlab.waterbirds)")
    rep.add_argument("setting", help="cifar10s, cifar10s-reference, celeba or waterbirds")
    rep.add_argument("--quick", action="store_true", help="small CPU-sized variant (labelled)")
    rep.add_argument("--seeds", type=int, default=1)
    rep.add_argument("--prune-ratios", default="0.1,0.25,0.5",
                     help="comma-separated prune ratios (default 0.1,0.25,0.5)")
    rep.add_argument("--out", required=True, help="output folder (finished runs are reused)")
    rep.add_argument("--root", default=None, help="data folder (default $SPURLAB_DATA or "
                     "~/.spurlab/data)")
    rep.add_argument("--download", action="store_true", help="download missing files")
    rep.add_argument("--quiet", action="store_true")
    pgp = sub.add_parser("playground", help="open the playground as a standalone page (Voila "
                         "when installed, else JupyterLab on a one-cell notebook)")
    pgp.add_argument("--dir", default=".", help="folder for playground.ipynb (default: here)")
    pgp.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    pgp.add_argument("--print-command", action="store_true",
                     help="print the command that would start the page, and exit")
    pgp.add_argument("--export", metavar="DIR", default=None,
                     help="write a static page of the playground (images, no server, no widget "
                          "JavaScript) to DIR, and exit")
    args = parser.parse_args(argv)
    try:
        _check_outputs(args)
        from .config import Config

        if args.command == "playground":
            return _playground(args)
        if args.command == "reproduce":
            from .reproduce import reproduce

            try:
                ratios = [float(p) for p in args.prune_ratios.split(",") if p.strip()]
            except ValueError:
                ratios = None
            if not ratios:
                raise ValueError(f"--prune-ratios must be one or more comma-separated numbers in "
                                 f"[0, 1); got {args.prune_ratios!r}")
            reproduce(args.setting, out=args.out, quick=args.quick, seeds=args.seeds,
                      prune_ratios=ratios, root=args.root, download=args.download,
                      progress=not args.quiet)
            print(f"results: {os.path.join(args.out, 'results.json')}")
        elif args.command == "demo":
            if args.seed < 0:
                raise ValueError(f"--seed must be a non-negative integer; got {args.seed}")
            if args.seeds < 1:
                raise ValueError(f"--seeds must be an integer >= 1; got {args.seeds}")
            from .config import PAPER_ARMS

            if args.seeds == 1:
                _run_and_report(Config(seed=args.seed), PAPER_ARMS, args)
            else:
                _report_seeds(Config(seed=args.seed), PAPER_ARMS, args)
        else:
            arms = [a.strip() for a in args.arms.split(",") if a.strip()]
            _run_and_report(Config.from_string(args.config), arms, args)
    except (ValueError, TypeError) as exc:
        print(f"spurlab: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ConnectionError, RuntimeError) as exc:
        print(f"spurlab: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("spurlab: interrupted; nothing was written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
