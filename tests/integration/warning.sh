#!/usr/bin/env bash
# warning.sh - the on-site warning end to end on the simulated board.
#
# A synthetic park-and-leave scene (firelane-scene --quick park_leave: a car
# rests in lane-a for ~22 s, then leaves) is replayed by firelane-edge with a
# config whose board is the sim writing its action log (JSON lines on video
# time), warn_s 4, warn_repeat_s 5, speaker 2 s, strobe 3 s. Checked:
#   - WARNED events in the events file: the first at the incident's
#     rest_since + warn_s (to a frame), then every warn_repeat_s, repeat
#     numbers 0, 1, 2, ..., all before the cleared event, none after;
#   - the action log: per warning a speaker and a strobe relay on at the
#     warning's time and the clip played once, each on followed by its off
#     after speaker_s / strobe_s (or at the clear, whichever comes first),
#     nothing switched on or played after the clear, every relay off at the
#     end;
#   - the warning changes nothing of detection: the alarm and cleared times
#     are those of a run without a board, and firelane-eval scores the run
#     with its warned lines exactly as without them (it ignores the type);
#   - a second run with quiet hours over the whole day: the same incident,
#     no WARNED event, no relay switched, no clip played;
#   - warn_max_repeats 1: exactly two warnings;
#   - two incidents in turn in one lane (two_in_turn: a car leaves, another
#     parks at the same spot): each incident's warnings count from repeat 0
#     at its own rest + warn_s, none between the first's clear and the
#     second's rest + warn_s;
#   - the Linux board with no relay wired and a script as the player: the
#     edge runs the player (no shell) with the clip path as one argument, the
#     same warnings are given, and no relay error is logged.
#
# Env: FL_BUILD_DIR (firelane-edge, firelane-scene, firelane-eval).
set -eu
. "$(dirname "$0")/lib/harness.sh"
need "$EDGE" "$SCENE" "$EVAL" python3

for s in park_leave two_in_turn; do
	"$SCENE" --scenario $s --quick --classic --seed 1 --out "$WORK" \
		>>"$WORK/scene.log" 2>&1 || fail "scene generation ($s) failed"
done
printf 'RIFF....WAVE' >"$WORK/move.wav"

# config NAME EXTRA_LANE_KEYS BOARD_YAML [SCENE]
config() {
	{
		cat "$WORK/${4:-park_leave}.yaml"
		printf '%s' "$2"
		printf '%s' "$3"
	} >"$WORK/$1.yaml"
}

LANE='        warn_s: 4
        warn_repeat_s: 5
        warn_max_repeats: 10
'
BOARD="board:
  type: sim
  log: actions.jsonl
  clip: move.wav
  speaker_s: 2
  strobe_s: 3
"

# replay NAME [SCENE]: events in NAME.jsonl; the sim's log moved to
# NAME.actions.
replay() {
	rm -f "$WORK/actions.jsonl"
	edge_run "$WORK/$1.log" "$WORK/$1.log" --config "$WORK/$1.yaml" --replay \
		--source "$WORK/${2:-park_leave}.mp4" --events-out "$WORK/$1.jsonl"
	if [ -e "$WORK/actions.jsonl" ]; then
		mv "$WORK/actions.jsonl" "$WORK/$1.actions"
	fi
}

config plain "" ""
config warn "$LANE" "$BOARD"
config quiet "$LANE        quiet_hours: [\"00:00-24:00\"]
" "$BOARD"
config capped '        warn_s: 4
        warn_repeat_s: 5
        warn_max_repeats: 1
' "$BOARD"
cat >"$WORK/player.sh" <<EOS
#!/bin/sh
printf '%s\\n' "\$*" >>"$WORK/played.txt"
EOS
chmod +x "$WORK/player.sh"
config linux "$LANE" "board:
  type: linux
  clip: move.wav
  player: \"$WORK/player.sh --quiet\"
"
config turns "$LANE" "$BOARD" two_in_turn
replay turns two_in_turn
replay plain
replay linux
replay warn
replay quiet
replay capped
[ ! -e "$WORK/plain.actions" ] || fail "a run without a board wrote actions"
# The Linux board: the player ran with the clip; no relay complaint.
[ -s "$WORK/played.txt" ] || fail "linux board: the player never ran"
bad=$(grep -vxF -- "--quiet $WORK/move.wav" "$WORK/played.txt" || true)
[ -z "$bad" ] || fail "linux board: player arguments: $bad"
! grep -q "relay" "$WORK/linux.log" || fail "linux board: relay errors logged"
[ "$(grep -c '"warned"' "$WORK/linux.jsonl")" = \
  "$(grep -c '"warned"' "$WORK/warn.jsonl")" ] ||
	fail "linux board: not the sim's warnings"
[ -s "$WORK/warn.actions" ] || fail "no action log from the sim board"

python3 - "$WORK" <<'PY' || fail "checks failed (above)"
import json, sys

work = sys.argv[1]
WARN_S, REPEAT_S, SPEAKER_S, STROBE_S = 4.0, 5.0, 2.0, 3.0
FRAME = 1 / 25 + 1e-6
errors = []

def load(name):
    with open(f"{work}/{name}") as f:
        return [json.loads(l) for l in f if l.strip()]

def check(cond, msg):
    if not cond:
        errors.append(msg)

def of(evs, t):
    return [e for e in evs if e["type"] == t]

ev = load("warn.jsonl")
occ, alarm, cleared, warned = (of(ev, t) for t in
                               ("occupied", "alarm", "cleared", "warned"))
check(len(occ) == 1 and len(alarm) == 1 and len(cleared) == 1,
      f"one incident expected: {len(occ)} occupied, {len(alarm)} alarm, "
      f"{len(cleared)} cleared")
if errors:
    print("\n".join(errors)); sys.exit(1)
rest, t_clear = occ[0]["rest_since_s"], cleared[0]["video_time_s"]
iid = occ[0]["incident_id"]
check(len(warned) >= 3, f"only {len(warned)} warnings")
for k, w in enumerate(warned):
    due = rest + WARN_S + k * REPEAT_S
    check(0 <= w["video_time_s"] - due <= FRAME,
          f"warning {k} at {w['video_time_s']}, due {due:.3f}")
    check(w["repeat"] == k and w["trigger"] == "auto",
          f"warning {k}: repeat {w['repeat']} trigger {w['trigger']}")
    check(w["incident_id"] == iid and w["camera"] == "cam-1" and
          w["lane"] == "lane-a", f"warning {k} names {w}")
    check(w["video_time_s"] <= t_clear, f"warning {k} after the clear")
# The last due slot before the clear was given: nothing missing.
check(rest + WARN_S + len(warned) * REPEAT_S > t_clear,
      "a warning due before the clear is missing")

acts = load("warn.actions")
wt = [w["video_time_s"] for w in warned]
plays = [a for a in acts if a["action"] == "play"]
check([a["t"] for a in plays] == wt,
      f"clip played at {[a['t'] for a in plays]}, warnings at {wt}")
check(all(a["clip"] == f"{work}/move.wav" for a in plays),
      f"clip path {plays[:1]}")
for relay, dur in (("speaker", SPEAKER_S), ("strobe", STROBE_S)):
    sw = [(a["t"], a["on"]) for a in acts
          if a["action"] == "relay" and a["relay"] == relay]
    ons = [t for t, on in sw if on]
    check(ons == wt, f"{relay} on at {ons}, warnings at {wt}")
    check([on for _, on in sw] == [True, False] * len(ons),
          f"{relay}: on/off not in pairs: {sw}")
    for (t_on, _), (t_off, _) in zip(sw[0::2], sw[1::2]):
        want = min(t_on + dur, t_clear)
        check(0 <= t_off - want <= FRAME,
              f"{relay} on at {t_on} off at {t_off}, want {want:.3f}")
after = [a for a in acts if a["t"] > t_clear and
         (a["action"] == "play" or (a["action"] == "relay" and a["on"]))]
check(not after, f"actions after the clear at {t_clear}: {after}")

# Detection unchanged by the warning; eval ignores "warned".
plain = load("plain.jsonl")
key = lambda evs: [(e["type"], e["video_time_s"]) for e in evs
                   if e["type"] in ("alarm", "cleared")]
check(key(plain) == key(ev), f"alarm/cleared differ: {key(plain)} vs {key(ev)}")
check(not of(plain, "warned"), "warned events without a board")

quiet = load("quiet.jsonl")
check(key(quiet) == key(ev), "quiet run: alarm/cleared differ")
check(not of(quiet, "warned"), f"quiet run warned: {of(quiet, 'warned')}")
qa = load("quiet.actions")
check(not [a for a in qa if a["action"] in ("relay", "play")],
      f"quiet run switched or played: {qa}")

capped = of(load("capped.jsonl"), "warned")
check([w["repeat"] for w in capped] == [0, 1],
      f"warn_max_repeats 1: {[w['repeat'] for w in capped]}")

# Two incidents in turn: each counts from 0 at its own rest + warn_s.
turns = load("turns.jsonl")
occ2 = of(turns, "occupied")
check(len(occ2) == 2, f"two_in_turn: {len(occ2)} incidents")
if len(occ2) == 2:
    clear1 = [e["video_time_s"] for e in of(turns, "cleared")
              if e["incident_id"] == occ2[0]["incident_id"]]
    check(len(clear1) == 1, "two_in_turn: the first is not cleared")
    for o in occ2:
        ws = [w for w in of(turns, "warned")
              if w["incident_id"] == o["incident_id"]]
        check([w["repeat"] for w in ws] == list(range(len(ws))) and ws,
              f"two_in_turn {o['incident_id']}: repeats "
              f"{[w['repeat'] for w in ws]}")
        for k, w in enumerate(ws):
            due = o["rest_since_s"] + WARN_S + k * REPEAT_S
            check(0 <= w["video_time_s"] - due <= FRAME,
                  f"two_in_turn warning {k} at {w['video_time_s']}, "
                  f"due {due:.3f}")
    if clear1:
        gap = [w for w in of(turns, "warned")
               if clear1[0] < w["video_time_s"] <
               occ2[1]["rest_since_s"] + WARN_S - FRAME]
        check(not gap, f"two_in_turn: warned between incidents: {gap}")

if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"warning: {len(warned)} warnings at {wt}, rest {rest}, "
      f"cleared {t_clear}")
PY

# firelane-eval scores the run with warnings exactly as without them.
"$EVAL" --truth "$WORK/park_leave.json" --events "$WORK/warn.jsonl" --json \
	>"$WORK/eval-warn.out" 2>"$WORK/eval.log" || fail "eval failed on warn"
grep -v '"type":"warned"' "$WORK/warn.jsonl" >"$WORK/nowarn.jsonl"
"$EVAL" --truth "$WORK/park_leave.json" --events "$WORK/nowarn.jsonl" --json \
	>"$WORK/eval-nowarn.out" 2>>"$WORK/eval.log" || fail "eval failed"
cmp -s "$WORK/eval-warn.out" "$WORK/eval-nowarn.out" ||
	fail "firelane-eval scores differ with warned lines"
grep -q '"tp": 1' "$WORK/eval-warn.out" || fail "eval: $(cat "$WORK/eval-warn.out")"
echo "warning: ok"
