#!/usr/bin/python3
"""train.py - train firelane's plate reader and export it to ONNX.

    /usr/bin/python3 model/plates/train.py --out model/plates/plate-reader.onnx

(`make plate-model` runs exactly this.) Needs Debian's python3-torch,
python3-numpy, python3-opencv, python3-pil, the fonts render.py names and the
ffmpeg command. CPU only.

A note on the model. The reader is a small CNN with CTC decoding, the
CRNN / LPRNet family without the recurrent part (OpenCV's dnn runs plain
convolutions fastest, and a plate is short enough that a 1x3 convolution over
the sequence gives each step enough context): a gray 32x128 crop goes
through five 3x3 convolutions with three poolings down to 4x32, one 4x1
convolution folds the height away, a 1x3 one mixes neighbours, and a 1x1 one
scores the classes (CTC blank + render.ALPHABET) at each of the 32 steps. A
second, tiny head (global average of the 4x32 features, one logit) says
whether the crop is a double-row plate: the C reader then splits the rows
(render.split_rows) and reads again. About 0.22 M parameters.

What the training does, in order, all from fixed seeds:
  1. render the training set (render.sample with seeds 1..; each block of
     BLOCK samples has its own seed, so the set does not depend on how many
     processes drew it; a quarter of each block goes through H.264) and a
     validation set (seed 500000+), cached in --cache as .npz;
  2. train with CTC loss (and a logistic loss for the double-row head) with
     Adam and a one-cycle learning rate peaking at 1e-2, each epoch drawing
     Chinese inputs 1.5 times as often as Latin ones (the province, 31
     classes in Chinese plates only, is what the model learns last; at a
     peak of 3e-3 and 4 epochs it had barely begun: docs/plate-model.md,
     "Why it learned slowly");
  3. calibrate: the confidence of a read is the product of its characters'
     probabilities; one temperature T (logits / T) is chosen on the
     validation set so that this product matches the rate of exact reads
     (least squared error), and folded into the last layer; then one
     threshold per script (thresholds()): the lowest confidence at which
     the kept validation reads of that script are 99% exact - Chinese
     single-row, Chinese double-row and Latin reads are not equally sure
     at the same confidence, and one threshold for the whole mix let too
     many Latin reads through;
  4. export to ONNX (opset 11, what OpenCV 4.6 reads) and check that
     OpenCV's dnn gives the same logits as torch;
  5. measure the held-back synthetic test set: per plate kind, seeds
     900000+ (never used above), exact-match rate; written beside the model
     as plate-reader.json with the training figures.

    /usr/bin/python3 model/plates/train.py --calibrate-only \
        --out model/plates/plate-reader.onnx

recomputes steps 3 (the thresholds only: the temperature is in the
weights) and 5 for the committed model without training (the held-back
test set drawn by the current renderer: test_renderer_sha256_12): the
validation set is the cached one of the model's renderer when --cache has it (the
data the training calibrated on), else rendered with the current renderer
(the JSON says which: calibration_renderer_sha256_12); the reads come from
OpenCV's dnn on the ONNX file, as the C reader gets them. The JSON beside
the model is rewritten with the new thresholds and per-kind figures.

Reproducible: the same seeds give the same data; torch runs with
deterministic algorithms and --threads threads (the default, 2, is what the
committed model was trained with; another thread count changes the float
summation order and so the last bits of the weights).
"""
import argparse
import hashlib
import json
import math
import multiprocessing as mp
import os
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render as R  # noqa: E402

BLOCK = 500
# The mix of kinds in training: Chinese first, Latin for the real photos.
MIX = {"blue": 0.18, "green": 0.12, "yellow": 0.09, "yellow2": 0.10,
       "white": 0.07, "black": 0.07, "us": 0.22, "eu": 0.15}
NCLASS = 1 + len(R.ALPHABET)
T_STEPS = 32
MAX_LEN = 8


def encode(text):
    return [R.ALPHABET.index(c) + 1 for c in text]


def render_block(args):
    """One block of samples: (inputs uint8 [n,32,128], texts, ctc flags,
    double-row flags, kinds). A double-row plate gives two inputs: split
    (read, flag 0) and whole (not read, flag 1)."""
    seed, n, h264 = args
    rng = np.random.default_rng(seed)
    kinds = list(MIX)
    p = np.array([MIX[k] for k in kinds])
    p /= p.sum()
    samples = [R.sample(rng, kinds[rng.choice(len(kinds), p=p)])
               for _ in range(n)]
    if h264:
        idx = [i for i in range(n) if rng.random() < 0.25]
        crf = int(rng.integers(28, 44))
        out = R.h264_batch([samples[i]["crop"] for i in idx], crf)
        for i, im in zip(idx, out):
            samples[i]["crop"] = im
    X, texts, ctc, dbl, kk = [], [], [], [], []
    for s in samples:
        g = cv2.cvtColor(s["crop"], cv2.COLOR_BGR2GRAY)
        if s["rows"] == 2:
            X.append(R.to_input(g))
            texts.append(s["text"])
            ctc.append(0)
            dbl.append(1)
            kk.append(s["kind"])
            g = R.split_rows(g)
        X.append(R.to_input(g))
        texts.append(s["text"])
        ctc.append(1)
        dbl.append(0)
        kk.append(s["kind"])
    return np.stack(X), texts, ctc, dbl, kk


def render_set(seed0, n, procs, h264=True, kinds=None):
    """n samples in blocks of BLOCK, block b with seed seed0 + b."""
    jobs = [(seed0 + b, min(BLOCK, n - b * BLOCK), h264)
            for b in range((n + BLOCK - 1) // BLOCK)]
    if procs > 1:
        with mp.Pool(procs) as pool:
            parts = pool.map(render_block, jobs, chunksize=1)
    else:
        parts = [render_block(j) for j in jobs]
    X = np.concatenate([q[0] for q in parts])
    texts = sum((q[1] for q in parts), [])
    ctc = np.array(sum((q[2] for q in parts), []), np.uint8)
    dbl = np.array(sum((q[3] for q in parts), []), np.uint8)
    kinds_ = sum((q[4] for q in parts), [])
    return X, texts, ctc, dbl, kinds_


def render_kind(args):
    """Held-back test set of one kind: (kind, inputs, texts) of n crops
    (render.photographed; `render.py --test-set` draws the same), the
    double-row ones split as the C reader does after its head says so."""
    kind, seed, n = args
    samples = R.photographed(np.random.default_rng(seed), kind, n)
    X, texts = [], []
    for s in samples:
        g = cv2.cvtColor(s["crop"], cv2.COLOR_BGR2GRAY)
        if s["rows"] == 2:
            g = R.split_rows(g)
        X.append(R.to_input(g))
        texts.append(s["text"])
    return kind, np.stack(X), texts


def cached(path, make):
    if os.path.exists(path):
        z = np.load(path, allow_pickle=False)
        return (z["X"], list(z["texts"]), z["ctc"], z["dbl"],
                list(z["kinds"]))
    X, texts, ctc, dbl, kinds = make()
    np.savez(path + ".tmp.npz", X=X, texts=np.array(texts), ctc=ctc,
             dbl=dbl, kinds=np.array(kinds))
    os.replace(path + ".tmp.npz", path)
    return X, texts, ctc, dbl, kinds


# ---- the network ---------------------------------------------------------

def cbr(i, o, k=3, p=1):
    return [nn.Conv2d(i, o, k, padding=p, bias=False), nn.BatchNorm2d(o),
            nn.ReLU(inplace=True)]


class Reader(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            *cbr(1, 16), nn.MaxPool2d(2),
            *cbr(16, 32), nn.MaxPool2d(2),
            *cbr(32, 64), *cbr(64, 64), nn.MaxPool2d((2, 1)),
            *cbr(64, 96))
        self.seq = nn.Sequential(
            *cbr(96, 128, (4, 1), 0),
            *cbr(128, 128, (1, 3), (0, 1)),
            nn.Dropout(0.1))
        self.cls = nn.Conv2d(128, NCLASS, 1)
        self.rows = nn.Linear(96, 1)

    def forward(self, x):
        f = self.body(x)                       # [N, 96, 4, 32]
        logits = self.cls(self.seq(f))         # [N, C, 1, 32]
        rows = self.rows(f.mean((2, 3)))       # [N, 1]
        return logits, rows


def to_tensor(X):
    return torch.from_numpy(X).float().div_(255.0).unsqueeze(1)


def normalise(x):
    """Per-crop contrast normalisation (the C reader does the same): zero
    mean, unit standard deviation, so exposure and polarity of the
    background matter less."""
    m = x.mean((2, 3), keepdim=True)
    s = x.std((2, 3), keepdim=True).clamp_min(1e-3)
    return (x - m) / s


def decode(logp):
    """Greedy CTC: [N, C, T] log-probs -> list of (text, char probs)."""
    best = logp.max(1)
    out = []
    for lp, ix in zip(best.values, best.indices):
        text, probs, prev = [], [], 0
        for t in range(ix.shape[0]):
            c = int(ix[t])
            p = math.exp(float(lp[t]))
            if c != 0 and c != prev:
                text.append(R.ALPHABET[c - 1])
                probs.append(p)
            elif c != 0 and c == prev and probs:
                probs[-1] = max(probs[-1], p)
            prev = c
        out.append(("".join(text), probs))
    return out


def augment_batch(x, g):
    """Cheap on-line variation of a cached batch: a shift of up to 3 px
    and 2 px (the crop's margin varies), contrast inversion never (plates
    have a fixed polarity per kind)."""
    n = x.shape[0]
    dx = torch.randint(-3, 4, (n,), generator=g)
    dy = torch.randint(-2, 3, (n,), generator=g)
    out = torch.empty_like(x)
    for i in range(n):
        out[i] = torch.roll(x[i], (int(dy[i]), int(dx[i])), (1, 2))
    return out


def logits_of(model, X, bs=512):
    """The model's logits [N, C, T] for a set of inputs."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(X), bs):
            out.append(model(normalise(to_tensor(X[i:i + bs])))[0].squeeze(2))
    return torch.cat(out)


def evaluate(model, X, texts, T=1.0, logits=None):
    """Reads of a set at temperature T: (reads, exact flags, confidences)."""
    if logits is None:
        logits = logits_of(model, X)
    reads = decode(F.log_softmax(logits / T, 1))
    exact = [r[0] == t for r, t in zip(reads, texts)]
    conf = [float(np.prod(r[1])) if r[1] else 0.0 for r in reads]
    return reads, np.array(exact), np.array(conf)


def is_cn(text):
    """A read in the Chinese script: it has a character outside ASCII (the
    C reader tells them apart by fl_plate_shape; a text of neither shape
    gets confidence 0 there and is never kept)."""
    return any(ord(c) > 127 for c in text)


def threshold_99(conf, exact):
    """The lowest confidence at which the reads kept (conf >= it) are 99%
    exact; 1.0 when no cut reaches 99%."""
    order = np.argsort(-conf)
    prec = np.cumsum(exact[order]) / np.arange(1, len(order) + 1)
    ok = np.nonzero(prec >= 0.99)[0]
    return float(conf[order][ok[-1]]) if len(ok) else 1.0


def thresholds(reads, exact, conf, double):
    """One threshold per script, on the validation reads of that script
    (the read's, as the C reader sees it; double: the input is a split
    double-row plate): ({script: threshold}, {script: figures})."""
    cn = np.array([is_cn(r[0]) for r in reads])
    groups = {"cn": cn & ~double, "cn_double_row": cn & double,
              "latin": ~cn}
    thr, fig = {}, {}
    for key, sel in groups.items():
        thr[key] = threshold_99(conf[sel], exact[sel])
        keep = conf[sel] >= thr[key]
        fig[key] = {"n": int(sel.sum()),
                    "kept": float(keep.mean()) if sel.any() else None,
                    "precision": float(exact[sel][keep].mean())
                    if keep.any() else None}
    return thr, fig


def threshold_of(text, rows, thr):
    """The threshold a read is kept at (fl_plate_min_conf in C)."""
    if is_cn(text):
        return thr["cn_double_row"] if rows == 2 else thr["cn"]
    return thr["latin"]


def test_per_kind(sets, logits_fn, thr):
    """The held-back test sets at the per-script thresholds: per kind,
    exact-match rate, the share kept and the precision of the kept."""
    out = {}
    for kind, tX, tt in sets:
        reads, ex, conf = evaluate(None, tX, tt, logits=logits_fn(tX))
        rows = 2 if kind == "yellow2" else 1
        keep = np.array([c >= threshold_of(r[0], rows, thr)
                         for r, c in zip(reads, conf)])
        out[kind] = {"n": len(tt), "exact": float(ex.mean()),
                     "kept_at_threshold": float(keep.mean()),
                     "precision_at_threshold":
                     float(ex[keep].mean()) if keep.any() else None}
    return out


def held_back_sets(n, procs):
    jobs = [(k, 900000 + i, n) for i, k in enumerate(R.KINDS)]
    with mp.Pool(procs) as pool:
        return pool.map(render_kind, jobs, chunksize=1)


def onnx_logits(path):
    """A function giving the ONNX model's logits [N, C, T] (torch) through
    OpenCV's dnn, the way the C reader runs it."""
    net = cv2.dnn.readNetFromONNX(path)

    def run(X, bs=256):
        out = []
        for i in range(0, len(X), bs):
            net.setInput(normalise(to_tensor(X[i:i + bs])).numpy())
            o = net.forward("chars")
            out.append(torch.from_numpy(o.reshape(o.shape[0], o.shape[1],
                                                  -1).copy()))
        return torch.cat(out)
    return run


def calibrate_only(a, rhash):
    """Recompute the thresholds (and the per-kind test figures) of the
    model at a.out without training; rewrite its JSON."""
    card_path = os.path.splitext(a.out)[0] + ".json"
    with open(card_path) as f:
        card = json.load(f)
    mhash = card["renderer_sha256_12"]
    path = os.path.join(a.cache, "val-%s-%d.npz" % (mhash, a.val))
    if not os.path.exists(path):
        path = os.path.join(a.cache, "val-%s-%d.npz" % (rhash, a.val))
        mhash = rhash
    print("train: calibrating %s on %s" % (a.out, path), flush=True)
    va = cached(path, lambda: render_set(500000, a.val, a.threads))
    vm = va[2].astype(bool)
    vX = va[0][vm]
    vt = [t for t, k in zip(va[1], vm) if k]
    dbl = np.array([k == "yellow2" for k, m in zip(va[4], vm) if m])
    run = onnx_logits(a.out)
    reads, ex, conf = evaluate(None, vX, vt, logits=run(vX))
    thr, fig = thresholds(reads, ex, conf, dbl)
    for key in thr:
        print("train: threshold %-13s %.4f: precision %s, %.3f of %d "
              "reads kept" % (key, thr[key], fig[key]["precision"],
                              fig[key]["kept"], fig[key]["n"]), flush=True)
    card["thresholds"] = thr
    card["thresholds_validation"] = fig
    card["calibration_renderer_sha256_12"] = mhash
    card["test_renderer_sha256_12"] = rhash
    card["test_per_kind"] = test_per_kind(held_back_sets(a.test, a.threads),
                                          run, thr)
    with open(card_path, "w") as f:
        json.dump(card, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--cache", default="build/plate-model")
    ap.add_argument("--train", type=int, default=40000)
    ap.add_argument("--val", type=int, default=4000)
    ap.add_argument("--test", type=int, default=500, help="per kind")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--cn-weight", type=float, default=1.5,
                    help="a Chinese plate is drawn this much more often "
                    "than a Latin one in each epoch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--calibrate-only", action="store_true",
                    help="recompute the thresholds of the model at --out "
                    "(no training)")
    a = ap.parse_args()

    t_start, c_start = time.time(), sum(os.times()[:4])
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True)
    os.makedirs(a.cache, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "render.py"), "rb") as f:
        rhash = hashlib.sha256(f.read()).hexdigest()[:12]

    def log(msg):
        print("train: [%6.0fs] %s" % (time.time() - t_start, msg),
              flush=True)

    if a.calibrate_only:
        calibrate_only(a, rhash)
        return
    log("rendering %d training plates (renderer %s)" % (a.train, rhash))
    tr = cached(os.path.join(a.cache, "train-%s-%d-%d.npz" %
                             (rhash, a.seed, a.train)),
                lambda: render_set(a.seed * 1000, a.train, a.threads))
    va = cached(os.path.join(a.cache, "val-%s-%d.npz" % (rhash, a.val)),
                lambda: render_set(500000, a.val, a.threads))
    t_data = time.time() - t_start
    log("data: %d train inputs, %d validation inputs" % (len(tr[0]),
                                                        len(va[0])))

    model = Reader()
    nparam = sum(p.numel() for p in model.parameters())
    X, texts, ctc, dbl = tr[0], tr[1], tr[2], tr[3]
    targets = [encode(t) for t in texts]
    n = len(X)
    steps = a.epochs * (n // a.batch)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, a.lr, total_steps=steps,
                                                pct_start=0.15)
    ctc_loss = nn.CTCLoss(blank=0, zero_infinity=True)
    g = torch.Generator().manual_seed(a.seed)
    # the province is the hard class (31 of them, in Chinese plates only):
    # Chinese inputs are drawn more often, with replacement, by weight
    wdraw = torch.from_numpy(np.where(
        [k in R.KINDS_CN for k in tr[4]], a.cn_weight, 1.0))
    step = 0
    curve = []
    c_train = sum(os.times()[:4])
    for ep in range(a.epochs):
        model.train()
        perm = torch.multinomial(wdraw, n, replacement=True,
                                 generator=g).numpy()
        tot = 0.0
        for b in range(n // a.batch):
            idx = np.sort(perm[b * a.batch:(b + 1) * a.batch])
            x = normalise(augment_batch(to_tensor(X[idx]), g))
            logits, rows = model(x)
            lp = F.log_softmax(logits.squeeze(2), 1).permute(2, 0, 1)
            m = torch.from_numpy(ctc[idx].astype(bool))
            loss = F.binary_cross_entropy_with_logits(
                rows.squeeze(1), torch.from_numpy(dbl[idx]).float())
            if m.any():
                tg = [targets[i] for i, k in zip(idx, m) if k]
                flat = torch.tensor(sum(tg, []), dtype=torch.long)
                lens = torch.tensor([len(t) for t in tg], dtype=torch.long)
                loss = loss + ctc_loss(
                    lp[:, m], flat,
                    torch.full((len(tg),), T_STEPS, dtype=torch.long), lens)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            tot += float(loss)
            if step % 200 == 0:
                log("epoch %d step %d/%d loss %.4f lr %.5f" %
                    (ep + 1, step, steps, tot / 200, sched.get_last_lr()[0]))
                tot = 0.0
        vm = va[2].astype(bool)
        vX = va[0][vm][:1000]
        vt = [t for t, k in zip(va[1], vm) if k][:1000]
        _, ex, _ = evaluate(model, vX, vt)
        curve.append(round(float(ex.mean()), 4))
        log("epoch %d: validation exact %.4f (first %d)" %
            (ep + 1, ex.mean(), len(vt)))
    t_train = time.time() - t_start - t_data
    cpu_step = (sum(os.times()[:4]) - c_train) / max(1, steps)

    # calibration: one temperature so that the product of the characters'
    # probabilities matches the exact-read rate on the validation set
    vm = va[2].astype(bool)
    vX = va[0][vm]
    vt = [t for t, k in zip(va[1], vm) if k]
    best = (1e9, 1.0)
    vlogits = logits_of(model, vX)
    for T in np.arange(0.6, 3.01, 0.05):
        _, ex, conf = evaluate(model, vX, vt, T, vlogits)
        err = float(np.mean((conf - ex) ** 2))
        if err < best[0]:
            best = (err, float(T))
    T = best[1]
    with torch.no_grad():
        model.cls.weight /= T
        model.cls.bias /= T
    reads, ex, conf = evaluate(model, vX, vt)
    bins = []
    for lo, hi in ((0, .5), (.5, .8), (.8, .9), (.9, .95), (.95, .99),
                   (.99, 1.01)):
        sel = (conf >= lo) & (conf < hi)
        bins.append({"conf": [lo, min(hi, 1.0)], "n": int(sel.sum()),
                     "exact": float(ex[sel].mean()) if sel.any() else None})
    # the thresholds: per script, the lowest confidence that keeps 99%
    # precision on that script's reads (threshold_99 is the whole mix's,
    # for comparison)
    thr_all = threshold_99(conf, ex)
    dbl = np.array([k == "yellow2" for k, m in zip(va[4], vm) if m])
    thr, thr_fig = thresholds(reads, ex, conf, dbl)
    log("temperature %.2f; thresholds %s" % (T, thr))

    # export
    model.eval()
    dummy = torch.from_numpy(normalise(to_tensor(vX[:1])).numpy())
    torch.onnx.export(model, dummy, a.out, opset_version=11,
                      input_names=["crop"], output_names=["chars", "rows"],
                      do_constant_folding=True)
    net = cv2.dnn.readNetFromONNX(a.out)
    net.setInput(dummy.numpy())
    o1, o2 = net.forward(["chars", "rows"])
    with torch.no_grad():
        l1, l2 = model(dummy)
    diff = max(float(np.abs(o1 - l1.numpy()).max()),
               float(np.abs(o2 - l2.numpy()).max()))
    log("exported %s (%d bytes); OpenCV vs torch max |diff| %.2e" %
        (a.out, os.path.getsize(a.out), diff))
    if diff > 1e-3:
        sys.exit("train: OpenCV's dnn does not agree with torch")

    # held-back synthetic test set, per kind
    log("held-back test set: %d per kind" % a.test)
    per_kind = test_per_kind(held_back_sets(a.test, a.threads),
                             lambda X: logits_of(model, X), thr)
    for kind, f in per_kind.items():
        log("  %-8s exact %.4f" % (kind, f["exact"]))
    card = {
        "model": os.path.basename(a.out), "bytes": os.path.getsize(a.out),
        "parameters": nparam, "input": [1, 1, R.IN_H, R.IN_W],
        "alphabet": R.ALPHABET, "renderer_sha256_12": rhash,
        "train_inputs": int(len(X)), "epochs": a.epochs,
        "batch": a.batch, "lr": a.lr, "cn_weight": a.cn_weight,
        "seed": a.seed, "threads": a.threads,
        "steps": steps, "validation_exact_per_epoch": curve,
        "cpu_s_per_step": round(cpu_step, 3),
        "temperature": T, "threshold_99": thr_all, "thresholds": thr,
        "thresholds_validation": thr_fig,
        "calibration_renderer_sha256_12": rhash,
        "test_renderer_sha256_12": rhash, "calibration": bins,
        "test_per_kind": per_kind,
        "wall_s": {"data": round(t_data, 1), "train": round(t_train, 1),
                   "total": round(time.time() - t_start, 1)},
        "cpu_s": round(sum(os.times()[:4]) - c_start, 1),
    }
    with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
        json.dump(card, f, indent=1, ensure_ascii=False)
        f.write("\n")
    log("done")


if __name__ == "__main__":
    main()
