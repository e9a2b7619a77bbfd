#!/usr/bin/python3
"""render.py - the licence plates firelane's plate reader learns from.

A note on why we draw our own plates. The reader (src/vision/platereader.cpp)
is trained on nothing but what this file draws: no photographs, no weights or
data from elsewhere, and never the real test images it is measured on. So the
realism of the reader is the realism of this renderer. Each plate is drawn
in millimetres after its standard and then made to look photographed:

  1. layout: the plate's kind fixes its size, colours, number of rows and
     where every character cell sits (GA 36-2018 for Chinese plates; EU
     520x110 mm with its blue band; US 12x6 inch with a state name, a slogan,
     stickers and busy backgrounds);
  2. glyphs: each character is drawn with a Debian font (see FONTS), cut to
     its ink and stretched into its cell, the way plate lettering is narrow
     and tall (on Latin plates the font is narrowed as a whole, so that O
     stays wider than 0 as on real plates; glyph());
  3. camera: the plate is pasted on a car-coloured surround, warped by a
     random perspective, lit (shade, glare, night), dirtied, partly
     occluded, blurred, resampled to a low resolution, noised and compressed
     (JPEG, or H.264 through the ffmpeg command for a whole batch at once);
  4. crop: the image is cut at the plate's box with a random margin, the way
     a labelled box or the localiser (fl_plate_find) would cut it; a
     double-row plate is then split into one line (split_rows, the same
     fractions as the C reader).

Everything is driven by one numpy Generator, so a seed gives the same plates
on every run (the H.264 pass as well: libx264 with one thread is
deterministic).

The same file is the fixture tool of the tests: `render.py --out DIR --kind
blue --count 8 --seed 5` writes crops (`--clean`: without the camera's
degradations) or (`--scene`) whole photos with the plate on a car, with
labels.tsv (file, text, kind, box) and one .txt per image in the openalpr
benchmark's format (file, box, text) for `firelane-plates --ocr`.
"""
import argparse
import math
import os
import subprocess
import sys

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
SPECIAL = "警学港澳挂使领"
LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
# Chinese plates have no I or O (GA 36: they read as 1 and 0).
CN_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
CN_ALNUM = CN_LETTERS + DIGITS
# The model's classes: 0 is the CTC blank, then these in order. The C
# reader has the same string (platereader.cpp: kAlphabet); the ONNX file
# records it too (train.py) and the reader checks the class count.
ALPHABET = DIGITS + LATIN + PROVINCES + SPECIAL

KINDS_CN = ("blue", "green", "yellow", "yellow2", "white", "black")
KINDS_LATIN = ("us", "eu")
KINDS = KINDS_CN + KINDS_LATIN

# Input of the network: gray, this height and width (platereader.cpp: kInH,
# kInW).
IN_H, IN_W = 32, 128

# Double-row plates are read as one line: the top row's middle and the
# bottom row side by side, each scaled to the same height. Fractions of the
# crop (x0, y0, x1, y1); platereader.cpp: split_rows uses the same ones.
SPLIT_TOP = (0.12, 0.0, 0.88, 0.42)
SPLIT_BOTTOM = (0.0, 0.34, 1.0, 1.0)

FONT_DIRS = "/usr/share/fonts"
# Fonts from Debian packages: fonts-noto-cjk and fonts-wqy-zenhei (the
# Chinese characters, Hei style like the plates'), fonts-opendin (DIN 1451,
# the lettering of German and most EU plates, close to GA 36's), fonts-roboto-
# unhinted, fonts-dejavu-extra, fonts-liberation, fonts-urw-base35 (narrow
# sans serifs for the other Latin lettering).
FONTS = {
    "cjk": [("opentype/noto/NotoSansCJK-Regular.ttc", 2),
            ("opentype/noto/NotoSansCJK-Bold.ttc", 2),
            ("truetype/wqy/wqy-zenhei.ttc", 0)],
    "alnum": [("truetype/opendin/OSP-DIN.ttf", 0),
              ("truetype/dejavu/DejaVuSansCondensed-Bold.ttf", 0),
              ("truetype/dejavu/DejaVuSansCondensed.ttf", 0),
              ("truetype/roboto/unhinted/RobotoCondensed-Regular.ttf", 0),
              ("truetype/roboto/unhinted/RobotoCondensed-Bold.ttf", 0),
              ("truetype/liberation/LiberationSansNarrow-Regular.ttf", 0),
              ("truetype/liberation/LiberationSansNarrow-Bold.ttf", 0),
              ("opentype/urw-base35/NimbusSansNarrow-Regular.otf", 0),
              ("opentype/urw-base35/NimbusSansNarrow-Bold.otf", 0),
              ("truetype/liberation/LiberationSans-Bold.ttf", 0),
              ("opentype/urw-base35/NimbusSans-Bold.otf", 0)],
}

US_STATES = ("CALIFORNIA", "TEXAS", "ARIZONA", "NEVADA", "OREGON", "FLORIDA",
             "NEW YORK", "ILLINOIS", "OHIO", "GEORGIA", "VIRGINIA", "UTAH",
             "WASHINGTON", "COLORADO", "IOWA", "MAINE", "IDAHO", "KANSAS",
             "NEW JERSEY", "MICHIGAN", "TENNESSEE", "Minnesota", "Oregon",
             "Texas", "California", "Florida", "Maryland", "Alaska")
US_SLOGANS = ("SUNSHINE STATE", "GRAND CANYON STATE", "dmv.ca.gov",
              "EMPIRE STATE", "THE LONE STAR STATE", "10,000 lakes",
              "Land of Lincoln", "LIVE FREE OR DIE", "BIRTHPLACE OF AVIATION",
              "Famous Potatoes", "Wild Wonderful", "EVERGREEN STATE")
EU_COUNTRIES = ("D", "SK", "CZ", "PL", "F", "I", "NL", "A", "B", "E", "P",
                "H", "SLO", "HR", "LT", "RO")


class Fonts:
    """Loaded PIL fonts, cached by (file, index, size)."""

    def __init__(self):
        self.cache = {}
        for group in FONTS.values():
            for rel, _ in group:
                path = os.path.join(FONT_DIRS, rel)
                if not os.path.exists(path):
                    sys.exit("render.py: font %s missing (install the "
                             "Debian font packages listed in FONTS)" % path)

    def get(self, rel, index, size):
        key = (rel, index, size)
        if key not in self.cache:
            self.cache[key] = ImageFont.truetype(
                os.path.join(FONT_DIRS, rel), size, index=index)
        return self.cache[key]


FONT_CACHE = None


def fonts():
    global FONT_CACHE
    if FONT_CACHE is None:
        FONT_CACHE = Fonts()
    return FONT_CACHE


# ---- text of each kind ---------------------------------------------------

def pick(rng, s, n=1):
    return "".join(s[i] for i in rng.integers(0, len(s), n))


def alnum_tail(rng, n, letters_max=2):
    """n characters of a Chinese plate's serial: mostly digits, up to
    letters_max letters (GA 36 allows letters in the serial)."""
    out = []
    nl = 0
    for _ in range(n):
        if nl < letters_max and rng.random() < 0.25:
            out.append(pick(rng, CN_LETTERS))
            nl += 1
        else:
            out.append(pick(rng, DIGITS))
    return "".join(out)


def plate_text(rng, kind):
    """A random plate number of this kind; a separator between the issuing
    office and the serial is drawn, not part of the text."""
    prov = pick(rng, PROVINCES)
    if kind == "blue":
        if rng.random() < 0.04:
            return prov + pick(rng, CN_LETTERS) + alnum_tail(rng, 4) + "领"
        return prov + pick(rng, CN_LETTERS) + alnum_tail(rng, 5)
    if kind == "green":
        if rng.random() < 0.7:  # small new-energy car: D/F first
            return (prov + pick(rng, CN_LETTERS) + pick(rng, "DF") +
                    pick(rng, CN_ALNUM) + pick(rng, DIGITS, 4))
        return prov + pick(rng, CN_LETTERS) + pick(rng, DIGITS, 5) + \
            pick(rng, "DF")
    if kind == "yellow":
        if rng.random() < 0.25:
            return prov + pick(rng, CN_LETTERS) + alnum_tail(rng, 4) + "学"
        return prov + pick(rng, CN_LETTERS) + alnum_tail(rng, 5)
    if kind == "yellow2":
        if rng.random() < 0.25:
            return prov + pick(rng, CN_LETTERS) + alnum_tail(rng, 4) + "挂"
        return prov + pick(rng, CN_LETTERS) + alnum_tail(rng, 5)
    if kind == "white":
        return prov + pick(rng, CN_LETTERS) + alnum_tail(rng, 4) + "警"
    if kind == "black":
        if rng.random() < 0.25:
            return "使" + pick(rng, DIGITS, 6)
        return "粤Z" + alnum_tail(rng, 4) + pick(rng, "港澳")
    if kind == "us":
        pat = rng.choice(["LLLDDDD", "DLLLDDD", "LLLDDD", "DDDLLL", "LLDDDDD",
                          "DLLDDD", "LLLLDDD", "DDDDDD", "XXXXXXX", "XXXXXX",
                          "XXXXX", "DLLLDD", "LLDLDD", "DDLDDDD"])
        s = []
        for c in pat:
            if c == "L":
                s.append(pick(rng, LATIN))
            elif c == "D":
                s.append(pick(rng, DIGITS))
            else:
                s.append(pick(rng, LATIN + DIGITS))
        return "".join(s)
    # eu: district letters, then a serial (digits and letters)
    pat = rng.choice(["LLDDDLL", "LLDDDDD", "LDDDDD", "LLLDDDD", "DLDDDDD",
                      "LLLLDDD", "LLLDDLL", "LDLLDDD", "LLDDDD", "LLLLDD"])
    return "".join(pick(rng, LATIN) if c == "L" else pick(rng, DIGITS)
                   for c in pat)


# ---- layout (millimetres) ------------------------------------------------

class Layout:
    """Where to draw: plate size (mm), colours (BGR 0..255), cells."""

    def __init__(self, w, h, bg, fg):
        self.w, self.h = w, h
        self.bg, self.fg = bg, fg
        self.cells = []       # (x, y, w, h, char, colour)
        self.extra = []       # callables (draw, scale) for decorations
        self.rows = 1


def jitter_col(rng, c, amount=18):
    d = rng.normal(0, amount, 3)
    return tuple(int(min(255.0, max(0.0, v + e))) for v, e in zip(c, d))


def cn_layout(rng, kind, text):
    """GA 36-2018: 440x140 mm (green 480x140, double-row 440x220);
    characters 45x90 mm, 12 mm apart, a 10 mm dot between the office
    letter and the serial."""
    colours = {
        "blue": ((190, 70, 15), (250, 250, 250)),
        "yellow": ((30, 190, 240), (20, 20, 20)),
        "yellow2": ((30, 190, 240), (20, 20, 20)),
        "white": ((245, 245, 245), (20, 20, 20)),
        "black": ((20, 20, 20), (245, 245, 245)),
        "green": ((120, 215, 150), (20, 20, 20)),
    }
    bg, fg = colours[kind]
    bg, fg = jitter_col(rng, bg), jitter_col(rng, fg, 10)
    if kind == "yellow2":
        lay = Layout(440, 220, bg, fg)
        lay.rows = 2
        # top row: 2 characters 80x60, centred; bottom: 5 of 65x110
        x = 110
        for ch in text[:2]:
            lay.cells.append((x, 18, 80, 60, ch, fg))
            x += 80 + 60
        x = 27.5
        for ch in text[2:]:
            lay.cells.append((x, 92, 65, 110, ch, fg))
            x += 65 + 12.5
        return lay
    w = 480 if kind == "green" else 440
    lay = Layout(w, 140, bg, fg)
    n = len(text)
    cw, gap, dot = (43, 9, 49) if n == 8 else (45, 12, 34)
    if kind == "black" and text[0] == "使":
        dot = 34
    total = n * cw + (n - 2) * gap + dot
    x = (w - total) / 2
    for i, ch in enumerate(text):
        col = fg
        if ch == "警" or (kind == "white" and i == 0 and rng.random() < 0.0):
            col = (30, 30, 210)
        lay.cells.append((x, 25, cw, 90, ch, col))
        x += cw + (dot if i == 1 else gap)
    lay.dot = (lay.cells[1][0] + cw + dot / 2, 70)
    return lay


def us_layout(rng, text):
    """A US passenger plate, 12x6 in (305x152 mm): state name on top,
    slogan at the bottom, the number in the middle, 2.5..3 in tall."""
    bg = jitter_col(rng, [(245, 245, 245), (235, 245, 250), (250, 235, 220),
                          (200, 235, 250), (230, 230, 230)][rng.integers(5)], 12)
    fg = jitter_col(rng, [(20, 20, 20), (110, 40, 20), (30, 30, 150),
                          (40, 90, 20), (90, 30, 30)][rng.integers(5)], 15)
    lay = Layout(305, 152, bg, fg)
    n = len(text)
    ch_h = rng.uniform(62, 76)
    cw = min(rng.uniform(0.45, 0.6) * ch_h, 250 / n)
    gap = rng.uniform(2, 6)
    split = int(rng.integers(2, n - 1)) if n > 4 and rng.random() < 0.6 else -1
    sepw = rng.uniform(10, 24) if split > 0 else 0
    total = n * cw + (n - 1) * gap + sepw
    x = (305 - total) / 2 + rng.normal(0, 4)
    y = (152 - ch_h) / 2 + rng.normal(6, 4)
    for i, ch in enumerate(text):
        lay.cells.append((x, y, cw, ch_h, ch, fg))
        x += cw + gap
        if i + 1 == split:
            lay.sep = (x - gap / 2 + sepw / 2, y + ch_h / 2, sepw)
            x += sepw
    lay.state = US_STATES[rng.integers(len(US_STATES))]
    lay.slogan = US_SLOGANS[rng.integers(len(US_SLOGANS))]
    lay.top_col = jitter_col(rng, [(30, 30, 170), (140, 60, 20), (20, 20, 20),
                                   (40, 120, 40)][rng.integers(4)])
    return lay


def eu_layout(rng, text):
    """An EU plate, 520x110 mm: blue band with the country on the left,
    black lettering 75 mm tall, groups parted by a space, hyphen or seal."""
    yellow = rng.random() < 0.12
    bg = jitter_col(rng, (30, 200, 245) if yellow else (245, 245, 245), 10)
    lay = Layout(520, 110, bg, jitter_col(rng, (20, 20, 20), 8))
    lay.country = EU_COUNTRIES[rng.integers(len(EU_COUNTRIES))]
    n = len(text)
    ch_h = rng.uniform(70, 80)
    cw = min(rng.uniform(0.5, 0.62) * ch_h, 400 / (n + 1))
    gap = rng.uniform(2, 6)
    # where the groups part: after the district letters
    split = 0
    while split < n and text[split] in LATIN:
        split += 1
    if split == 0 or split >= n:
        split = 2
    sepw = rng.uniform(14, 34)
    total = n * cw + (n - 1) * gap + sepw
    x = 45 + (470 - total) / 2
    y = (110 - ch_h) / 2
    for i, ch in enumerate(text):
        lay.cells.append((x, y, cw, ch_h, ch, lay.fg))
        x += cw + gap
        if i + 1 == split:
            lay.sep = (x - gap / 2 + sepw / 2, 55, sepw)
            x += sepw
    lay.sep_kind = rng.choice(["space", "hyphen", "seal", "seal2"])
    return lay


# ---- drawing -------------------------------------------------------------

GLYPHS = {}


def ink(ch, font_rel, index):
    """ch drawn 96 px tall in a font, cut to its ink (None if it has
    none); cached, since every plate draws the same few glyphs."""
    key = (ch, font_rel, index)
    if key not in GLYPHS:
        size = 96
        font = fonts().get(font_rel, index, size)
        img = Image.new("L", (size * 2, size * 2), 0)
        ImageDraw.Draw(img).text((size // 3, size // 4), ch, fill=255,
                                 font=font)
        a = np.asarray(img)
        ys, xs = np.nonzero(a > 40)
        GLYPHS[key] = None if len(xs) == 0 else \
            a[ys.min():ys.max() + 1, xs.min():xs.max() + 1].copy()
    return GLYPHS[key]


def glyph(rng, ch, font_rel, index, cell_w, cell_h, stretch, ref=None):
    """An 8-bit alpha mask of ch, cut to its ink, fit into cell_w x cell_h
    pixels: scaled to the cell's height, its width as the font has it (times
    stretch) but never wider than the cell. With ref (a character), the
    whole font is first narrowed so that ref fits the cell, and every glyph
    by the same factor: the characters keep their widths relative to each
    other. Latin plates need that: the letter O is wider than the digit 0
    in most fonts, and squeezing each glyph into the cell on its own drew
    both as the same oval (the reader then read real O as 0)."""
    a = ink(ch, font_rel, index)
    if a is None:
        return np.zeros((max(1, int(cell_h)), max(1, int(cell_w))), np.uint8)
    h = max(2, int(round(cell_h)))
    w = a.shape[1] * h / a.shape[0] * stretch
    r = ink(ref, font_rel, index) if ref else None
    if r is not None:
        w *= min(1.0, cell_w / (r.shape[1] * h / r.shape[0] * stretch))
    w = max(2, int(round(min(cell_w, w))))
    return cv2.resize(a, (w, h), interpolation=cv2.INTER_AREA)


def blend(img, mask, x, y, colour):
    """Paint colour through an alpha mask at (x, y), clipped."""
    h, w = mask.shape
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(img.shape[1], x + w), min(img.shape[0], y + h)
    if x1 <= x0 or y1 <= y0:
        return
    m = mask[y0 - y:y1 - y, x0 - x:x1 - x].astype(np.float32)[..., None] / 255
    roi = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = (roi * (1 - m) + np.array(colour, np.float32) * m
                         ).astype(np.uint8)


def draw_text_line(img, rng, s, x, y, h, colour, font_rel, index=0):
    """Free text (state names, slogans, country codes) h px tall, left
    edge x, top y."""
    if h < 3:
        return
    font = fonts().get(font_rel, index, max(6, int(h * 1.3)))
    pil = Image.new("L", (int(h * 1.3 * len(s) + 20), int(h * 2.2)), 0)
    ImageDraw.Draw(pil).text((5, 2), s, fill=255, font=font)
    a = np.asarray(pil)
    ys, xs = np.nonzero(a > 40)
    if len(xs) == 0:
        return
    a = a[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    sc = h / a.shape[0]
    a = cv2.resize(a, (max(1, int(a.shape[1] * sc)), int(h)),
                   interpolation=cv2.INTER_AREA)
    blend(img, a, int(x - a.shape[1] / 2), int(y), colour)


def background(rng, lay, W, H, kind):
    """The plate's ground: flat, a gradient (green new-energy plates, US
    designs) or a faint picture of blobs (US)."""
    img = np.empty((H, W, 3), np.uint8)
    img[:] = lay.bg
    if kind == "green":
        # GA 36: white-green gradient, lighter at the bottom for small cars
        t = np.linspace(0, 1, H)[:, None, None]
        top = np.array([90, 200, 100], np.float32)
        bot = np.array([235, 245, 235], np.float32)
        if lay.cells[-1][4] in "DF" and lay.cells[2][4] not in "DF":
            top = np.array([30, 190, 240], np.float32)  # large: yellow-green
            bot = np.array([100, 210, 140], np.float32)
        img[:] = (top * (1 - t) + bot * t).astype(np.uint8)
    elif kind == "us":
        if rng.random() < 0.6:
            t = np.linspace(0, 1, H)[:, None, None]
            c2 = np.array(jitter_col(rng, lay.bg, 40), np.float32)
            img[:] = (np.array(lay.bg, np.float32) * (1 - t) + c2 * t
                      ).astype(np.uint8)
        for _ in range(rng.integers(0, 5)):
            col = jitter_col(rng, lay.bg, 60)
            cx, cy = rng.integers(0, W), rng.integers(0, H)
            ax, ay = rng.integers(W // 10, W // 2), rng.integers(H // 12, H // 3)
            over = img.copy()
            cv2.ellipse(over, (int(cx), int(cy)), (int(ax), int(ay)),
                        float(rng.uniform(0, 180)), 0, 360, col, -1)
            img[:] = cv2.addWeighted(img, 0.5, over, 0.5, 0)
    return img


def render_plate(rng, kind, text):
    """The flat plate as a BGR image at a few px per mm, and its layout."""
    if kind in KINDS_CN:
        lay = cn_layout(rng, kind, text)
    elif kind == "us":
        lay = us_layout(rng, text)
    else:
        lay = eu_layout(rng, text)
    ppm = rng.uniform(0.3, 0.55)  # px per mm: 130..240 px wide for CN
    W, H = int(lay.w * ppm), int(lay.h * ppm)
    img = background(rng, lay, W, H, kind)
    s = ppm
    alnum = FONTS["alnum"]
    if kind in KINDS_CN:
        # Chinese plates: DIN-like alphanumerics in one font per plate
        fa = alnum[rng.choice([0, 0, 0, 1, 3, 5, 7])]
    else:
        fa = alnum[rng.integers(len(alnum))]
    fc = FONTS["cjk"][rng.integers(len(FONTS["cjk"]))]
    stretch = rng.uniform(0.85, 1.15)
    bold = rng.random() < 0.3
    for (x, y, w, h, ch, col) in lay.cells:
        f = fc if ch in PROVINCES + SPECIAL else fa
        m = glyph(rng, ch, f[0], f[1], w * s, h * s,
                  stretch * (1.6 if ch in PROVINCES + SPECIAL else 1.0),
                  None if kind in KINDS_CN else "O")
        if bold:
            m = cv2.dilate(m, np.ones((2, 2), np.uint8))
        px = int(x * s + (w * s - m.shape[1]) / 2 + rng.normal(0, 0.3))
        py = int(y * s + rng.normal(0, 0.3))
        blend(img, m, px, py, col)
    # decorations
    if kind in KINDS_CN:
        # white (or black) rim 3 mm inside the edge; dot separator
        rim = (245, 245, 245) if kind in ("blue", "black") else (30, 30, 30)
        if kind == "green":
            rim = (60, 60, 60)
        t = max(1, int(1.5 * s))
        cv2.rectangle(img, (int(3 * s), int(3 * s)),
                      (W - int(3 * s), H - int(3 * s)), rim, t,
                      cv2.LINE_AA)
        if lay.rows == 1 and hasattr(lay, "dot"):
            cv2.circle(img, (int(lay.dot[0] * s), int(lay.dot[1] * s)),
                       max(1, int(5 * s)), lay.fg, -1, cv2.LINE_AA)
        # rivets
        for rx in (0.22, 0.78):
            for ry in ((0.07,) if lay.rows == 1 else (0.05,)):
                cv2.circle(img, (int(W * rx), int(H * ry) + 2),
                           max(1, int(4 * s)), jitter_col(rng, lay.bg, 30),
                           -1)
    elif kind == "us":
        draw_text_line(img, rng, lay.state, W / 2 + rng.normal(0, 10),
                       rng.uniform(5, 14) * s, rng.uniform(12, 24) * s,
                       lay.top_col, alnum[rng.integers(len(alnum))][0])
        if rng.random() < 0.7:
            draw_text_line(img, rng, lay.slogan, W / 2,
                           H - rng.uniform(16, 24) * s,
                           rng.uniform(7, 13) * s, lay.top_col,
                           alnum[rng.integers(len(alnum))][0])
        if hasattr(lay, "sep"):
            cx, cy, sw = lay.sep
            kind_sep = rng.integers(4)
            if kind_sep == 0:
                cv2.line(img, (int((cx - sw / 3) * s), int(cy * s)),
                         (int((cx + sw / 3) * s), int(cy * s)), lay.fg,
                         max(1, int(3 * s)))
            elif kind_sep == 1:
                cv2.circle(img, (int(cx * s), int(cy * s)),
                           max(2, int(sw * s / 3)),
                           jitter_col(rng, (60, 120, 200), 80), -1)
            elif kind_sep == 2:
                cv2.rectangle(img, (int((cx - sw / 2.5) * s),
                                    int((cy - sw / 2) * s)),
                              (int((cx + sw / 2.5) * s),
                               int((cy + sw / 2) * s)),
                              jitter_col(rng, (40, 160, 220), 80), -1)
        # registration stickers in the top corners
        for corner in (0, 1):
            if rng.random() < 0.45:
                sw, sh = rng.uniform(25, 45) * s, rng.uniform(15, 28) * s
                x0 = rng.uniform(5, 20) * s if corner == 0 else \
                    W - rng.uniform(5, 20) * s - sw
                y0 = rng.uniform(4, 14) * s
                cv2.rectangle(img, (int(x0), int(y0)),
                              (int(x0 + sw), int(y0 + sh)),
                              jitter_col(rng, (rng.integers(256),
                                               rng.integers(256),
                                               rng.integers(256)), 0), -1)
        cv2.rectangle(img, (0, 0), (W - 1, H - 1),
                      jitter_col(rng, lay.top_col, 30),
                      max(1, int(rng.uniform(0, 4) * s)))
    else:  # eu
        band = int(45 * s)
        cv2.rectangle(img, (0, 0), (band, H), (150, 50, 0), -1)
        cx, cy, r = band / 2, H * 0.3, band * 0.28
        for k in range(12):
            a = 2 * math.pi * k / 12
            cv2.circle(img, (int(cx + r * math.cos(a)), int(cy + r * math.sin(a))),
                       max(1, int(2.2 * s)), (0, 210, 250), -1)
        draw_text_line(img, rng, lay.country, cx, H * 0.58, H * 0.28,
                       (245, 245, 245), alnum[0][0])
        cx, cy, sw = lay.sep
        if lay.sep_kind == "hyphen":
            cv2.line(img, (int((cx - sw / 4) * s), int(cy * s)),
                     (int((cx + sw / 4) * s), int(cy * s)), lay.fg,
                     max(1, int(6 * s)))
        elif lay.sep_kind in ("seal", "seal2"):
            rr = max(2, int(sw * s / 3))
            cv2.circle(img, (int(cx * s), int((cy - 12) * s)), rr,
                       jitter_col(rng, (40, 120, 200), 60), -1)
            if lay.sep_kind == "seal2":
                cv2.rectangle(img, (int(cx * s) - rr, int((cy + 8) * s)),
                              (int(cx * s) + rr, int((cy + 8) * s) + 2 * rr),
                              jitter_col(rng, (60, 60, 200), 60), -1)
        cv2.rectangle(img, (1, 1), (W - 2, H - 2), (20, 20, 20),
                      max(1, int(3 * s)))
    return img, lay


# ---- camera --------------------------------------------------------------

def surround(rng, plate, margin):
    """Paste the plate on a car-like surround margin times its size: body
    colour, a bumper line, some texture. Returns the image and the plate's
    corners in it."""
    h, w = plate.shape[:2]
    H, W = int(h * (1 + 2 * margin)), int(w * (1 + 2 * margin))
    body = np.array(jitter_col(rng, [(40, 40, 40), (200, 200, 200),
                                     (230, 230, 230), (40, 40, 150),
                                     (120, 80, 40), (90, 90, 90),
                                     (20, 20, 20)][rng.integers(7)], 25),
                    np.float32)
    t = np.linspace(-1, 1, H)[:, None, None]
    img = np.clip(body * (1 + 0.25 * t * rng.uniform(-1, 1)), 0, 255)
    img = np.repeat(img, W, axis=1).astype(np.uint8)
    for _ in range(rng.integers(0, 4)):  # bumper and grille edges
        y = int(rng.uniform(0, H))
        cv2.line(img, (0, y), (W, y + int(rng.normal(0, 5))),
                 jitter_col(rng, tuple(int(v) for v in body), 70),
                 int(rng.integers(1, 6)))
    x0, y0 = (W - w) // 2, (H - h) // 2
    if rng.random() < 0.3:  # a plate frame (dealer frames cover the rim)
        fr = int(rng.uniform(0.03, 0.1) * h)
        cv2.rectangle(img, (x0 - fr, y0 - fr), (x0 + w + fr, y0 + h + fr),
                      jitter_col(rng, (30, 30, 30), 40), -1)
    img[y0:y0 + h, x0:x0 + w] = plate
    if rng.random() < 0.2:  # a frame's top or bottom bar over the plate
        fr = int(rng.uniform(0.04, 0.12) * h)
        col = jitter_col(rng, (30, 30, 30), 50)
        if rng.random() < 0.5:
            cv2.rectangle(img, (x0, y0 + h - fr), (x0 + w, y0 + h), col, -1)
        else:
            cv2.rectangle(img, (x0, y0), (x0 + w, y0 + fr), col, -1)
    corners = np.float32([[x0, y0], [x0 + w, y0], [x0 + w, y0 + h],
                          [x0, y0 + h]])
    return img, corners


def warp(rng, img, corners, strength):
    """Random perspective: each corner moves by up to strength of the
    plate's height, plus a small rotation."""
    h = corners[3, 1] - corners[0, 1]
    dst = corners + rng.normal(0, strength * h, (4, 2)).astype(np.float32)
    ang = math.radians(rng.normal(0, 3))
    c = corners.mean(0)
    R = np.float32([[math.cos(ang), -math.sin(ang)],
                    [math.sin(ang), math.cos(ang)]])
    dst = (dst - c) @ R.T + c
    M = cv2.getPerspectiveTransform(corners, dst.astype(np.float32))
    out = cv2.warpPerspective(img, M, (img.shape[1], img.shape[0]),
                              flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    return out, dst


def light(rng, img):
    """Exposure, shade, glare and night."""
    f = img.astype(np.float32)
    H, W = img.shape[:2]
    r = rng.random()
    if r < 0.15:  # night: dark, a colour cast, lit from one side
        f *= rng.uniform(0.15, 0.45)
        f *= np.array(jitter_col(rng, (180, 200, 255), 40), np.float32) / 255
        g = np.linspace(rng.uniform(0.5, 1.5), rng.uniform(0.5, 1.5), W)
        f *= g[None, :, None]
    elif r < 0.22:  # infrared night camera: gray and bright
        gray = f.mean(2, keepdims=True) * rng.uniform(0.8, 1.4)
        f = np.repeat(gray, 3, axis=2)
    else:
        f = f * rng.uniform(0.6, 1.3) + rng.uniform(-40, 40)
    if rng.random() < 0.3:  # shade across part of the plate
        x = int(rng.uniform(0.1, 0.9) * W)
        ang = rng.uniform(-1, 1)
        yy, xx = np.mgrid[0:H, 0:W]
        m = (xx - x - ang * (yy - H / 2)) > 0
        f[m] *= rng.uniform(0.4, 0.8)
    if rng.random() < 0.2:  # glare: a soft bright ellipse
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        cx, cy = rng.uniform(0, W), rng.uniform(0, H)
        sx, sy = rng.uniform(0.05, 0.4) * W, rng.uniform(0.1, 0.6) * H
        g = np.exp(-(((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2))
        f += (g * rng.uniform(80, 220))[..., None]
    gamma = rng.uniform(0.7, 1.4)
    f = 255 * (np.clip(f, 0, 255) / 255) ** gamma
    return np.clip(f, 0, 255).astype(np.uint8)


def dirt(rng, img, box):
    """Mud spots and specks; sometimes an occluder (a tow bar, a leaf, a
    screw) over part of the characters."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    if rng.random() < 0.3:
        over = img.copy()
        for _ in range(rng.integers(3, 30)):
            c = (int(x0 + rng.uniform(0, bw)), int(y0 + rng.uniform(0, bh)))
            cv2.circle(over, c, int(rng.integers(1, max(2, bh // 8))),
                       jitter_col(rng, (40, 70, 90), 30), -1)
        img = cv2.addWeighted(img, 1 - rng.uniform(0.2, 0.7), over,
                              rng.uniform(0.2, 0.7), 0)
    if rng.random() < 0.1:
        # occluder: never more than about a third of a character's height
        ow, oh = rng.uniform(0.03, 0.15) * bw, rng.uniform(0.1, 0.3) * bh
        ox = x0 + rng.uniform(0, bw - ow)
        oy = y0 + (rng.uniform(-0.1, 0.05) if rng.random() < 0.5 else
                   rng.uniform(0.75, 0.95)) * bh
        cv2.rectangle(img, (int(ox), int(oy)), (int(ox + ow), int(oy + oh)),
                      jitter_col(rng, (50, 50, 50), 60), -1)
    return img


def camera(rng, img, plate_h):
    """Blur, resolution, noise and JPEG, at a plate height of plate_h px in
    the output (the scale the plate ends up at)."""
    r = rng.random()
    if r < 0.3:
        k = rng.uniform(0.3, 1.6)
        img = cv2.GaussianBlur(img, (0, 0), k)
    elif r < 0.45:  # motion blur along x
        n = int(rng.integers(2, 6))
        k = np.zeros((n, n), np.float32)
        k[n // 2, :] = 1.0 / n
        img = cv2.filter2D(img, -1, k)
    # resolution: the plate's height after the camera, 12..80 px
    target = rng.uniform(12, 80) if rng.random() < 0.8 else \
        rng.uniform(80, 140)
    s = min(1.0, target / plate_h)
    if s < 1.0:
        small = cv2.resize(img, (max(8, int(img.shape[1] * s)),
                                 max(8, int(img.shape[0] * s))),
                           interpolation=cv2.INTER_AREA)
        img = small
    if rng.random() < 0.6:
        n = rng.normal(0, rng.uniform(1, 10), img.shape)
        img = np.clip(img.astype(np.float32) + n, 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        q = int(rng.uniform(15, 95))
        ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
        img = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return img, (s if s < 1.0 else 1.0)


def h264_batch(images, crf):
    """Pass a batch of BGR images through libx264 (one thread, so the
    result repeats) at crf and back: each image pasted top-left on a common
    canvas, the canvas sequence encoded as a video. Returns the images
    back, same sizes. The ffmpeg command is a firelane dependency."""
    if not images:
        return images
    H = max(i.shape[0] for i in images)
    W = max(i.shape[1] for i in images)
    H, W = (H + 15) // 16 * 16, (W + 15) // 16 * 16
    raw = np.full((len(images), H, W, 3), 128, np.uint8)
    for k, im in enumerate(images):
        raw[k, :im.shape[0], :im.shape[1]] = im
    cmd = ["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "bgr24",
           "-s", "%dx%d" % (W, H), "-r", "25", "-i", "-", "-c:v", "libx264",
           "-preset", "veryfast", "-threads", "1", "-crf", str(crf),
           "-pix_fmt", "yuv420p", "-f", "h264", "-"]
    enc = subprocess.run(cmd, input=raw.tobytes(), capture_output=True,
                         check=True).stdout
    dec = subprocess.run(["ffmpeg", "-v", "error", "-threads", "1", "-f",
                          "h264", "-i", "-", "-f", "rawvideo", "-pix_fmt",
                          "bgr24", "-"], input=enc, capture_output=True,
                         check=True).stdout
    out = np.frombuffer(dec, np.uint8)
    if out.size != raw.size:
        return images
    out = out.reshape(raw.shape)
    return [out[k, :im.shape[0], :im.shape[1]].copy()
            for k, im in enumerate(images)]


def crop_box(rng, quad, shape, loose):
    """The axis-aligned box of the plate's corners, with a random margin
    (a label or the localiser is never exact): -4..+12% of the width,
    -6..+25% of the height per side; loose=False for a tight clean box."""
    x0, y0 = quad[:, 0].min(), quad[:, 1].min()
    x1, y1 = quad[:, 0].max(), quad[:, 1].max()
    w, h = x1 - x0, y1 - y0
    if loose:
        x0 -= w * rng.uniform(-0.04, 0.12)
        x1 += w * rng.uniform(-0.04, 0.12)
        y0 -= h * rng.uniform(-0.06, 0.25)
        y1 += h * rng.uniform(-0.06, 0.25)
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(shape[1], int(math.ceil(x1))), min(shape[0],
                                                   int(math.ceil(y1)))
    return x0, y0, x1, y1


def split_rows(gray):
    """A double-row plate crop as one line: the top row's middle and the
    bottom row, each scaled to the crop's bottom-row height, side by side."""
    h, w = gray.shape[:2]

    def part(f):
        x0, y0 = int(f[0] * w), int(f[1] * h)
        x1, y1 = max(x0 + 1, int(f[2] * w)), max(y0 + 1, int(f[3] * h))
        return gray[y0:y1, x0:x1]
    top, bot = part(SPLIT_TOP), part(SPLIT_BOTTOM)
    th = bot.shape[0]
    tw = max(1, int(round(top.shape[1] * th / top.shape[0])))
    top = cv2.resize(top, (tw, th), interpolation=cv2.INTER_LINEAR)
    return np.hstack([top, bot])


def to_input(gray):
    """The network's input from a gray crop: stretched to IN_W x IN_H."""
    return cv2.resize(gray, (IN_W, IN_H), interpolation=cv2.INTER_AREA
                      if gray.shape[0] > IN_H else cv2.INTER_LINEAR)


def sample(rng, kind, clean=False):
    """One photographed plate crop. Returns (crop BGR, text, box in the
    crop's surround...) as a dict: crop (BGR, the camera's pixels), text,
    kind, rows."""
    text = plate_text(rng, kind)
    plate, lay = render_plate(rng, kind, text)
    img, quad = surround(rng, plate, 0.35)
    if clean:
        x0, y0, x1, y1 = crop_box(rng, quad, img.shape, False)
        return {"crop": img[y0:y1, x0:x1], "text": text, "kind": kind,
                "rows": lay.rows}
    img, quad = warp(rng, img, quad, rng.uniform(0.0, 0.12))
    img = light(rng, img)
    bx = crop_box(rng, quad, img.shape, False)
    img = dirt(rng, img, bx)
    ph = bx[3] - bx[1]
    img, s = camera(rng, img, ph)
    quad = quad * s
    x0, y0, x1, y1 = crop_box(rng, quad, img.shape, True)
    return {"crop": img[y0:y1, x0:x1], "text": text, "kind": kind,
            "rows": lay.rows}


def photographed(rng, kind, n, h264=0.25):
    """n photographed crops of one kind (sample), and a share h264 of them
    (drawn by rng) passed through H.264, each at a crf of its own drawn by
    rng (28..43; one batch per crf): the held-back test sets of train.py
    and of `make bench` are this with their seeds. One crf per crop, not
    per set, so that two kinds' sets meet the same compression on average
    (docs/plate-model.md, "Where the errors are")."""
    samples = [sample(rng, kind) for _ in range(n)]
    idx = [i for i in range(n) if rng.random() < h264]
    crfs = [int(c) for c in rng.integers(28, 44, size=len(idx))]
    for crf in sorted(set(crfs)):
        group = [i for i, c in zip(idx, crfs) if c == crf]
        for i, im in zip(group, h264_batch([samples[i]["crop"]
                                            for i in group], crf)):
            samples[i]["crop"] = im
    return samples


def scene(rng, kind, W=960, H=540):
    """A whole photo: a plain car body and bumper with the plate, on a
    street-like ground, for whole-image reading. Returns (image, text,
    box [x, y, w, h])."""
    text = plate_text(rng, kind)
    plate, lay = render_plate(rng, kind, text)
    img = np.empty((H, W, 3), np.uint8)
    img[:] = jitter_col(rng, (110, 110, 110), 20)
    img[: H // 3] = jitter_col(rng, (200, 180, 150), 20)
    cw, ch = int(W * 0.5), int(H * 0.55)
    cx, cy = int(W * rng.uniform(0.2, 0.3)), int(H * 0.3)
    car = jitter_col(rng, [(40, 40, 40), (200, 200, 200), (40, 40, 150),
                           (120, 80, 40)][rng.integers(4)], 20)
    cv2.rectangle(img, (cx, cy), (cx + cw, cy + ch), car, -1)
    cv2.rectangle(img, (cx + cw // 8, cy + ch // 10),
                  (cx + cw - cw // 8, cy + ch // 3), (60, 50, 40), -1)
    pw = int(cw * rng.uniform(0.3, 0.4))
    ph = int(pw * plate.shape[0] / plate.shape[1])
    p = cv2.resize(plate, (pw, ph), interpolation=cv2.INTER_AREA)
    px, py = cx + (cw - pw) // 2, cy + int(ch * 0.62)
    img[py:py + ph, px:px + pw] = p
    return img, text, [px, py, pw, ph]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="folder for PNGs and "
                    "labels.tsv")
    ap.add_argument("--kind", default="blue", choices=KINDS + ("all",))
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clean", action="store_true",
                    help="crops without the camera's degradations")
    ap.add_argument("--scene", action="store_true",
                    help="whole photos with the plate on a car")
    ap.add_argument("--test-set", action="store_true",
                    help="one kind, photographed, a quarter through H.264: "
                    "train.py's held-back test set for this seed")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    kinds = KINDS if a.kind == "all" else (a.kind,)
    if a.test_set:
        if a.kind == "all":
            sys.exit("render.py: --test-set wants one --kind")
        batch = photographed(rng, a.kind, a.count)
    with open(os.path.join(a.out, "labels.tsv"), "w", encoding="utf-8") as f:
        for i in range(a.count):
            kind = kinds[i % len(kinds)]
            name = "%s-%03d.png" % (kind, i)
            if a.scene:
                img, text, box = scene(rng, kind)
            else:
                s = batch[i] if a.test_set else \
                    sample(rng, kind, clean=a.clean)
                img, text = s["crop"], s["text"]
                box = [0, 0, img.shape[1], img.shape[0]]
            cv2.imwrite(os.path.join(a.out, name), img)
            f.write("%s\t%s\t%s\t%d\t%d\t%d\t%d\n" % (name, text, kind, *box))
            # and the openalpr benchmark's one .txt per image, which
            # firelane-plates --ocr reads
            with open(os.path.join(a.out, name[:-4] + ".txt"), "w",
                      encoding="utf-8") as t:
                t.write("%s\t%d\t%d\t%d\t%d\t%s\n" % (name, *box, text))


if __name__ == "__main__":
    main()
