"""Run the PyTorch reference (shared/bench/torch_gpt_reference.py) on a CUDA GPU, unchanged
but for the default device, so `miracle bench --device wgpu` has its peer on the same GPU.

  python3 torch_reference_cuda.py PATH/TO/torch_gpt_reference.py train --configs A,B,C,D
  python3 torch_reference_cuda.py PATH/TO/torch_gpt_reference.py gen
  python3 torch_reference_cuda.py PATH/TO/torch_gpt_reference.py matmul

The reference times training steps and decoding through `loss.item()` and `int(token)`,
which wait for the GPU; its matmul does not, so that one is replaced by a synchronised copy.
"""
import json
import runpy
import statistics
import sys
import time

import torch

torch.set_default_device("cuda")
reference = runpy.run_path(sys.argv[1])


def bench_matmul(n, threads, reps=10):
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        torch.mm(a, b)
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        torch.mm(a, b)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    med = statistics.median(times)
    return {"n": n, "threads": threads, "s_median": med, "gflops_median": 2 * n**3 / med / 1e9,
            "gflops_best": 2 * n**3 / min(times) / 1e9, "tf32": torch.backends.cuda.matmul.allow_tf32}


# run_path returns a copy of the module's globals: patch the dict its functions read.
reference["main"].__globals__["bench_matmul"] = bench_matmul
# Config D, sized for a GPU, as `miracle bench train --config D` has it:
# (vocab, n_layer, n_head, n_embd, block_size, batch).
reference["main"].__globals__["CONFIGS"].setdefault("D", (8192, 12, 8, 512, 512, 64))
print(json.dumps({"device": torch.cuda.get_device_name()}), flush=True)
sys.argv = [sys.argv[1]] + sys.argv[2:]
reference["main"]()
