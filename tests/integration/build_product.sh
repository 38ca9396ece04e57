#!/usr/bin/env bash
# build_product.sh - what only the tests use stays out of the product: the
# jansson reference parser of Finnhub frames (tests/lib/finnhub_json_ref.c,
# the tests' and fuzzers' oracle) is in neither the tickpipe binary nor the
# tpcore library the binary is linked from.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
need nm:binutils
lib="$TP_BINARY_DIR/libtpcore.a"
[ -f "$lib" ] || fail "no $lib"
nm "$TICKPIPE" >"$TMP/bin.sym" 2>/dev/null || fail "nm $TICKPIPE failed"
nm -A "$lib" >"$TMP/lib.sym" 2>/dev/null || fail "nm $lib failed"
# the check can see a symbol that is there
grep -q ' T tp_finnhub_parse$' "$TMP/bin.sym" || fail "nm shows no tp_finnhub_parse in $TICKPIPE"
! grep -q 'tp_finnhub_parse_ref' "$TMP/bin.sym" || fail "the reference parser is linked into $TICKPIPE"
! grep -q 'finnhub_json_ref\|tp_finnhub_parse_ref' "$TMP/lib.sym" ||
  fail "the reference parser is in libtpcore.a: $(grep -m1 'finnhub_json_ref\|tp_finnhub_parse_ref' "$TMP/lib.sym")"
ok "the reference parser is in neither tickpipe nor libtpcore.a"
