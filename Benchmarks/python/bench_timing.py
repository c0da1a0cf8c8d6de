"""Timing shared by the PyTorch reference scripts: the same warm-up and per-call samples as
nfn-bench's `Clock.samples`, so both sides of a ratio are measured alike."""
import time


def timed_samples(step, repeats, warmup):
    """Milliseconds per call of `step`, one sample per repeat after `warmup` untimed calls."""
    for _ in range(warmup):
        step()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t0) * 1e3)
    return samples
