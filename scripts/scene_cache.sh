# scene_cache.sh - sourced by scripts/bench.sh and scripts/scene_bench.sh:
# generated scenes, made once and kept while the generator stays the same.
#
# scene_cache DIR LABEL ARGS...: runs "$SCENE ARGS... --out DIR" unless DIR
# already holds the output of this very generator binary with these ARGS
# (DIR.src records the binary's sha256 and the arguments). The set is made
# in DIR.tmp and moved into place, so an interrupted run never leaves a
# partial set behind (the ground truth names its media relative to its own
# folder). Needs SCENE, say and fail (the harness) from the caller.
scene_cache() {
	local dir=$1 label=$2 stamp=$1.src want
	shift 2
	want="$(sha256sum <"$SCENE" | cut -d ' ' -f 1) $*"
	if [ -d "$dir" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		say "$label: scenes cached"
		return
	fi
	rm -rf "$dir" "$dir.tmp" "$stamp"
	say "$label: generating (firelane-scene $*)"
	"$SCENE" "$@" --out "$dir.tmp" >&2 || fail "$label: firelane-scene failed"
	mv "$dir.tmp" "$dir"
	echo "$want" >"$stamp"
}
