"""Options shared by several commands, as `Annotated` aliases."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    parquet = "parquet"


InputArg = Annotated[
    list[str],
    typer.Argument(help="Input: Parquet file/dir/glob, JSONL (.jsonl/.jsonl.gz), CSV, a saved HF dataset folder, or '-' for JSONL on stdin."),
]
OutputOpt = Annotated[
    str,
    typer.Option("--output", "-o", help="Output: '-' (JSONL on stdout), a .jsonl/.parquet file, or a directory of Parquet shards."),
]
FormatOpt = Annotated[Optional[OutputFormat], typer.Option("--format", help="Force the output format instead of inferring it from the name.")]
TextFieldOpt = Annotated[str, typer.Option("--text-field", help="Column holding the text to score.")]
IdFieldOpt = Annotated[str, typer.Option("--id-field", help="Column holding row ids; rows without one get a stable content hash.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed: same input and seed give identical output.")]
WorkersOpt = Annotated[Optional[int], typer.Option("--workers", "-j", min=1, help="Worker processes (default: all cores).")]
RejectsOpt = Annotated[Optional[str], typer.Option("--rejects", help="Where quarantined rows go (JSONL). Default: beside the output, or ./curate-rejects.jsonl for stdout.")]
MaxRejectRateOpt = Annotated[
    Optional[float], typer.Option("--max-reject-rate", min=0.0, max=1.0, help="Exit with code 4 when more than this fraction of rows is quarantined.")
]
SummaryJsonOpt = Annotated[Optional[str], typer.Option("--summary-json", help="Also write the run summary as JSON to this path.")]
RowsPerShardOpt = Annotated[int, typer.Option("--rows-per-shard", min=1, help="Rows per Parquet shard when writing a directory.")]
EngineOpt = Annotated[str, typer.Option("--engine", help="Model engine: vllm (in-process), openai (a server at --engine-url), fake (tests).")]
EngineUrlOpt = Annotated[Optional[str], typer.Option("--engine-url", help="Base URL of an OpenAI-compatible server (implies --engine openai).")]
ModelOpt = Annotated[Optional[str], typer.Option("--model", help="Model path or name (default: the bundled SmolLM2-135M-Instruct).")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Bypass the request cache (results are still stored).")]
ExecutorOpt = Annotated[
    str, typer.Option("--executor", help="Where batches run: local (a process pool here) or ray (Ray Data tasks; model signals on engine actors).")
]
RayAddressOpt = Annotated[
    Optional[str], typer.Option("--ray-address", help="Ray cluster to use ('auto' on a cluster node, or ray://HOST:10001); implies --executor ray. Default: $RAY_ADDRESS, else start a local Ray.")
]
RayEnginesOpt = Annotated[
    int, typer.Option("--ray-engines", min=1, help="With --executor ray: engine actors for model calls, each loading the model once (--ray-engine-cpus each; 1 GPU each on a GPU cluster).")
]
RayEngineCpusOpt = Annotated[
    float, typer.Option("--ray-engine-cpus", min=0.01, help="With --executor ray: CPUs each engine actor reserves (on a CPU cluster, most of a node's cores).")
]


def check_ray_options(executor: str, ray_address: str | None, engines: int, engine_cpus: float) -> str:
    """The executor to use (`--ray-address` implies ray); engine-actor options without Ray are a usage error."""
    from curate.errors import UsageError

    where = "ray" if ray_address else executor
    if where != "ray" and (engines != 1 or engine_cpus != 1.0):
        raise UsageError("--ray-engines and --ray-engine-cpus apply to engine actors on Ray", "add --executor ray (or --ray-address), or drop them")
    return where
