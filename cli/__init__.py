"""Command-line interface of simcore, installed as ``simcore.cli``.

Every command parses arguments, calls one library function and prints. No model logic
lives here, and nothing heavy (numba, scipy, pandas, matplotlib) is imported until a command
actually runs, so ``simcore --help`` and ``simcore --version`` answer at once.
"""
