"""compare.py - ours / PyTorch, per model step, from the outputs of one run.

Usage: compare.py OURS_DIR PEERS_FILE
  OURS_DIR holds bench_gan_ring.txt, bench_dcgan.txt, bench_vae.txt,
  bench_gpt.txt (our benches' output); PEERS_FILE is peers.py's output.

Ours: a bench's line `result <model> <ms>` if it prints one (the contract,
bench/README.md); otherwise its current summary line: the median at the
default thread count (ring, dcgan: `  N threads  <ms> ms`; vae, gpt:
`  step  <ms> ms`). A ratio below 1 means ours is faster.
Runs with any python3 (no torch).
"""
import os
import re
import sys

MODELS = [("ring", "bench_gan_ring", "ring GAN iteration, batch 256"),
          ("dcgan", "bench_dcgan", "image GAN iteration, batch 64"),
          ("vae", "bench_vae", "VAE step, batch 128"),
          ("gpt", "bench_gpt", "GPT step, batch 32 x 64")]


def ours_ms(model, text):
    m = re.search(r"^result\s+%s\s+([0-9.]+)" % model, text, re.M)
    if m:
        return float(m.group(1))
    threads = [(int(n), float(ms)) for n, ms in re.findall(r"^\s+(\d+) threads?\s+([0-9.]+) ms", text, re.M)]
    if threads:
        return max(threads)[1]  # the most threads: the default count
    m = re.search(r"^\s+step\s+([0-9.]+) ms", text, re.M)
    return float(m.group(1)) if m else None


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ours_dir, peers_file = sys.argv[1:]
    with open(peers_file) as f:
        peers = {m: float(ms) for m, ms in re.findall(r"^result\s+(\S+)\s+([0-9.]+)", f.read(), re.M)}
    print("%-32s %10s %10s %8s" % ("model step", "ours ms", "torch ms", "ours/pt"))
    for model, bench, what in MODELS:
        path = os.path.join(ours_dir, bench + ".txt")
        ours = None
        if os.path.exists(path):
            with open(path) as f:
                ours = ours_ms(model, f.read())
        theirs = peers.get(model)
        cells = ["%10.3f" % v if v else "%10s" % "?" for v in (ours, theirs)]
        ratio = "%8.2f" % (ours / theirs) if ours and theirs else "%8s" % "?"
        print("%-32s %s %s %s" % (what, cells[0], cells[1], ratio))
    print("(? = not found: a bench or peers.py did not print that model's time)")


if __name__ == "__main__":
    main()
