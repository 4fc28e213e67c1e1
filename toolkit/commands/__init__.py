"""The verbs of the `cnnkit` command line, one module per stage; cli.py assembles them.

Each command converts flags to arguments, calls one library function and prints. Heavy
imports (torch, onnxruntime) happen inside the commands, so `--help` starts fast.
"""

from toolkit.commands.bench import bench_cmd, compare_cmd
from toolkit.commands.demo import demo_cmd
from toolkit.commands.diff import diff_cmd
from toolkit.commands.edge import bundle_cmd, doctor_cmd, verify_cmd
from toolkit.commands.eval import eval_cmd
from toolkit.commands.export import export_cmd, quantize_cmd
from toolkit.commands.infer import infer_cmd
from toolkit.commands.inspect import inspect_cmd
from toolkit.commands.profile import profile_cmd
from toolkit.commands.serve import serve_cmd
from toolkit.commands.train import train_cmd
from toolkit.commands.zoo import models_cmd

# In the order of the pipeline, which is the order `cnnkit --help` lists them.
COMMANDS = [
    models_cmd,
    train_cmd,
    export_cmd,
    quantize_cmd,
    profile_cmd,
    inspect_cmd,
    diff_cmd,
    eval_cmd,
    infer_cmd,
    serve_cmd,
    bench_cmd,
    compare_cmd,
    bundle_cmd,
    verify_cmd,
    doctor_cmd,
    demo_cmd,
]
