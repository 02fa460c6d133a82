#!/bin/sh
# decoder_params.sh DIR [verilator|yosys|tag]: the emitted decoder's baked values
# (DIR/manifest.json) as the options that configure icebreaker_decoder_core:
# its module name as the LG_DECODER define and LANES, GROUP, NBEATS, POS_W,
# TOK_W, VOCAB, SEQ_LEN, IMAGE_TAG (the weight image's tag, which the
# flash reader checks in each mark; decimal) and MARKS_LEAD (the flash beat
# of beat 0's mark in the marked image, where each token's burst starts) as
# parameters. Verilator syntax by default
# (+define+ / -G); `yosys` prints `read_verilog -D` / `chparam -set` text;
# `tag` the weight tag alone, hex, for mkflash weights --expect-tag;
# `token-bytes IMAGE` the flash bytes a token reads from the marked IMAGE
# (mkflash weights --marks): all of it but the repeat marks MARKS_LEAD skips.
set -eu
m="$1/manifest.json"
[ -f "$m" ] || { echo "decoder_params.sh: no $m (emit the decoder first)" >&2; exit 1; }
get() { # first "key": value in the manifest, quotes stripped
    v=$(sed -n "s/^ *\"$1\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$m" | head -n 1)
    [ -n "$v" ] || { echo "decoder_params.sh: $m has no \"$1\"" >&2; exit 1; }
    echo "$v"
}
prefix=$(get prefix)
params="LANES=$(get lanes) GROUP=$(get group_size) NBEATS=$(get weight_beats_per_token)"
params="$params POS_W=$(get POS_W) TOK_W=$(get TOK_W) VOCAB=$(get vocab_size) SEQ_LEN=$(get seq_len)"
tag=$(get weight_tag)
case $tag in *[!0-9a-f]*) echo "decoder_params.sh: $m: weight_tag '$tag' is not hex" >&2; exit 1 ;; esac
params="$params IMAGE_TAG=$((0x$tag))"
lead=$(get weight_marks_lead)
case $lead in
*[!0-9]*) echo "decoder_params.sh: $m: weight_marks_lead $lead: the marked flash layout cannot take this weight image" >&2; exit 1 ;;
esac
params="$params MARKS_LEAD=$lead"
case "${2:-verilator}" in
tag)
    # the tag alone, hex (mkflash weights --expect-tag)
    echo "$tag" ;;
token-bytes)
    [ -f "${3:-}" ] || { echo "decoder_params.sh: token-bytes needs the flash image" >&2; exit 1; }
    echo $(( $(wc -c < "$3") - $(get lanes) * lead )) ;;
verilator)
    out="+define+LG_DECODER=${prefix}_decoder"
    for p in $params; do out="$out -G$p"; done
    echo "$out" ;;
yosys)
    out="chparam"
    for p in $params; do out="$out -set ${p%%=*} ${p#*=}"; done
    echo "-DLG_DECODER=${prefix}_decoder;$out icebreaker_decoder_core" ;;
*) echo "decoder_params.sh: unknown form '$2'" >&2; exit 1 ;;
esac
