#!/usr/bin/python3
"""probe.py - where a plate model fails, measured without training.

    /usr/bin/python3 model/plates/probe.py failures --model M [--kind blue]
    /usr/bin/python3 model/plates/probe.py sizes --model M [--kind blue]
    /usr/bin/python3 model/plates/probe.py split --model M [--seed 123456]
    /usr/bin/python3 model/plates/probe.py ablate --model M [--kind blue]

A note on what these answer. Training a model takes most of an hour of the
machine; these take a minute each and tell where the next hour is best
spent (docs/plate-model.md, "Where the errors are"). All reads go through
OpenCV's dnn on the ONNX file, as the C reader gets them, and every set is
drawn by render.py from a fixed seed:

  failures  the held-back test set of one kind (the seed train.py uses,
            900000 + the kind's index): exact, the share of reads of the
            right length, the province right, everything after it right,
            and the same by the crop's height in pixels - is it the
            province, the length (characters lost or invented), or the
            size of the plate?
  sizes     clean crops (render.py --clean) shrunk to a plate height of
            10..48 px: how small a sharp plate can be before the province
            or the rest is lost (the input is 32 px tall whatever the crop).
  split     double-row crops split with the top part reaching 0.42..0.50 of
            the crop's height (render.SPLIT_TOP) and the bottom part
            starting at 0.30..0.38 (SPLIT_BOTTOM): exact, and the reads kept
            and their precision at a few thresholds. A model is trained
            with one split; this says how much another one would change,
            before training with it.
  ablate    photographed crops with one step of the camera left out at a
            time (render.sample: warp, light, dirt, blur/noise/JPEG, H.264;
            or the plate at least 40 px tall): which of them costs the
            model most. Leaving a step out changes how the random draws
            fall after it, so the sets are not the same plates, only the
            same kinds of plate (the figures are about +-0.03 at 300). A
            quarter of each set goes through H.264 at one crf (--crf),
            the same in every line (photographed() draws one per crop).
"""
import argparse
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render as R  # noqa: E402
import train as T  # noqa: E402


def read_all(run, X, texts):
    """(reads, exact flags, confidences) of inputs X through run."""
    return T.evaluate(None, X, texts, logits=run(X))


def gray(s):
    return cv2.cvtColor(s["crop"], cv2.COLOR_BGR2GRAY)


def photographed_marked(rng, kind, n):
    """render.photographed, which crops went through H.264, and at which
    crf each (0 for the others)."""
    seen = {}
    h264 = R.h264_batch

    def spy(images, crf):
        out = h264(images, crf)
        seen.update({id(im): crf for im in out})
        return out
    R.h264_batch = spy
    try:
        samples = R.photographed(rng, kind, n)
    finally:
        R.h264_batch = h264
    crfs = np.array([seen.get(id(s["crop"]), 0) for s in samples])
    return samples, crfs > 0, crfs


def failures(a, run):
    samples, h264, crf = photographed_marked(
        np.random.default_rng(900000 + R.KINDS.index(a.kind)), a.kind, a.count)
    texts = [s["text"] for s in samples]
    heights = np.array([s["crop"].shape[0] for s in samples])
    X = np.stack([R.to_input(R.split_rows(gray(s)) if s["rows"] == 2
                             else gray(s)) for s in samples])
    reads, ex, _ = read_all(run, X, texts)
    length = np.array([len(r[0]) == len(t) for r, t in zip(reads, texts)])
    first = np.array([ok and r[0][0] == t[0]
                      for ok, r, t in zip(length, reads, texts)])
    rest = np.array([ok and r[0][1:] == t[1:]
                     for ok, r, t in zip(length, reads, texts)])
    print("%s, %d held-back crops: exact %.3f, length right %.3f (short "
          "%d, long %d), first character right %.3f, all after it right "
          "%.3f, only the first wrong %.3f" %
          (a.kind, len(texts), ex.mean(), length.mean(),
           sum(len(r[0]) < len(t) for r, t in zip(reads, texts)),
           sum(len(r[0]) > len(t) for r, t in zip(reads, texts)),
           first.mean(), rest.mean(), (rest & ~first).mean()))
    print("  through H.264 (crf %d..%d, mean %.1f): %d crops, exact %.3f; "
          "the others %.3f" % (crf[h264].min(), crf[h264].max(),
                               crf[h264].mean(), h264.sum(), ex[h264].mean(),
                               ex[~h264].mean()))
    for lo, hi in ((0, 20), (20, 30), (30, 45), (45, 70), (70, 10000)):
        sel = (heights >= lo) & (heights < hi)
        if sel.any():
            print("  crop %3d..%4d px tall: %3d crops, exact %.3f, first "
                  "right %.3f, rest right %.3f" %
                  (lo, hi, sel.sum(), ex[sel].mean(), first[sel].mean(),
                   rest[sel].mean()))


def sizes(a, run):
    rng = np.random.default_rng(a.seed)
    samples = [R.sample(rng, a.kind, clean=True) for _ in range(a.count)]
    texts = [s["text"] for s in samples]
    print("%d clean %s crops (seed %d), median height %d px" %
          (a.count, a.kind, a.seed,
           np.median([s["crop"].shape[0] for s in samples])))
    for h in (10, 12, 14, 16, 20, 24, 32, 48):
        X = []
        for s in samples:
            g = gray(s)
            w = max(1, round(g.shape[1] * h / g.shape[0]))
            g = cv2.resize(g, (w, h), interpolation=cv2.INTER_AREA)
            X.append(R.to_input(R.split_rows(g) if s["rows"] == 2 else g))
        reads, ex, _ = read_all(run, np.stack(X), texts)
        first = np.mean([len(r[0]) == len(t) and r[0][0] == t[0]
                         for r, t in zip(reads, texts)])
        rest = np.mean([len(r[0]) == len(t) and r[0][1:] == t[1:]
                        for r, t in zip(reads, texts)])
        print("  %2d px tall: exact %.3f, first character right %.3f, all "
              "after it right %.3f" % (h, ex.mean(), first, rest))


def split(a, run):
    samples = R.photographed(np.random.default_rng(a.seed), "yellow2",
                             a.count)
    texts = [s["text"] for s in samples]
    print("%d photographed double-row crops (seed %d); the model's "
          "renderer split at %s / %s" % (a.count, a.seed, R.SPLIT_TOP[3],
                                         R.SPLIT_BOTTOM[1]))
    top0, bot0 = R.SPLIT_TOP, R.SPLIT_BOTTOM
    for y1, y0 in ((0.42, 0.34), (0.46, 0.34), (0.50, 0.34), (0.46, 0.30),
                   (0.46, 0.38)):
        R.SPLIT_TOP = top0[:3] + (y1,)
        R.SPLIT_BOTTOM = (bot0[0], y0) + bot0[2:]
        X = np.stack([R.to_input(R.split_rows(gray(s))) for s in samples])
        reads, ex, conf = read_all(run, X, texts)
        cn = np.array([T.is_cn(r[0]) for r in reads])
        line = "  top to %.2f, bottom from %.2f: exact %.3f;" % (y1, y0,
                                                                 ex.mean())
        for t in (0.828, 0.908, 0.95):
            k = cn & (conf >= t)
            line += " at %.3f kept %.3f precision %.3f;" % (
                t, k.mean(), ex[k].mean() if k.any() else float("nan"))
        print(line)
    R.SPLIT_TOP, R.SPLIT_BOTTOM = top0, bot0


def camera_sharp(rng, img, plate_h):
    """render.camera without blur, noise and JPEG: only the resolution."""
    target = rng.uniform(12, 80) if rng.random() < 0.8 else \
        rng.uniform(80, 140)
    s = min(1.0, target / plate_h)
    if s < 1.0:
        img = cv2.resize(img, (max(8, int(img.shape[1] * s)),
                               max(8, int(img.shape[0] * s))),
                         interpolation=cv2.INTER_AREA)
    return img, s


def camera_large(rng, img, plate_h):
    """render.camera with the plate at least 40 px tall (40..140)."""
    small = rng.uniform

    class Rng:
        def __getattr__(self, name):
            return getattr(rng, name)

        def uniform(self, lo, hi, *rest):
            if (lo, hi) in ((12, 80), (80, 140)):
                return small(40, 140)
            return small(lo, hi, *rest)
    return CAMERA(Rng(), img, plate_h)


CAMERA = R.camera


def ablate(a, run):
    keep = (R.warp, R.light, R.dirt, R.camera)
    variants = (
        ("everything", {}, 0.25),
        ("no H.264", {}, 0.0),
        ("no warp", {"warp": lambda rng, img, q, s: (img, q)}, 0.25),
        ("no light", {"light": lambda rng, img: img}, 0.25),
        ("no dirt", {"dirt": lambda rng, img, box: img}, 0.25),
        ("no blur, noise, JPEG", {"camera": camera_sharp}, 0.25),
        ("plate >= 40 px tall", {"camera": camera_large}, 0.25),
        ("only the resolution", {"warp": lambda rng, img, q, s: (img, q),
                                 "light": lambda rng, img: img,
                                 "dirt": lambda rng, img, box: img,
                                 "camera": camera_sharp}, 0.0))
    print("%d photographed %s crops per line (seed %d, H.264 at crf %d)" %
          (a.count, a.kind, a.seed, a.crf))
    for name, patch, h264 in variants:
        for k, f in patch.items():
            setattr(R, k, f)
        rng = np.random.default_rng(a.seed)
        samples = [R.sample(rng, a.kind) for _ in range(a.count)]
        R.warp, R.light, R.dirt, R.camera = keep
        # the same crops through H.264 at the same crf in every variant:
        # (photographed() draws one crf per crop; here one for all, --crf)
        hrng = np.random.default_rng(a.seed + 1)
        idx = [i for i in range(a.count) if hrng.random() < h264]
        for i, im in zip(idx, R.h264_batch([samples[i]["crop"] for i in idx],
                                           a.crf)):
            samples[i]["crop"] = im
        texts = [s["text"] for s in samples]
        X = np.stack([R.to_input(R.split_rows(gray(s)) if s["rows"] == 2
                                 else gray(s)) for s in samples])
        reads, ex, _ = read_all(run, X, texts)
        first = np.mean([len(r[0]) == len(t) and r[0][0] == t[0]
                         for r, t in zip(reads, texts)])
        print("  %-22s exact %.3f, first character right %.3f" %
              (name, ex.mean(), first))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=("failures", "sizes", "split", "ablate"))
    ap.add_argument("--model", required=True, help="the ONNX file")
    ap.add_argument("--kind", default="blue", choices=R.KINDS)
    ap.add_argument("--count", type=int, default=None,
                    help="crops (failures 500, sizes 200, split 1000, "
                    "ablate 300)")
    ap.add_argument("--seed", type=int, default=None,
                    help="sizes 7400, split 123456 (failures: the "
                    "held-back seed)")
    ap.add_argument("--crf", type=int, default=36,
                    help="ablate: the H.264 crf of the quarter that goes "
                    "through it")
    a = ap.parse_args()
    if a.count is None:
        a.count = {"failures": 500, "sizes": 200, "split": 1000,
                   "ablate": 300}[a.what]
    if a.seed is None:
        a.seed = {"sizes": 7400, "split": 123456,
                  "ablate": 424242}.get(a.what, 0)
    cv2.setNumThreads(1)
    T.torch.set_num_threads(1)
    run = T.onnx_logits(a.model)
    {"failures": failures, "sizes": sizes, "split": split,
     "ablate": ablate}[a.what](a, run)


if __name__ == "__main__":
    main()
