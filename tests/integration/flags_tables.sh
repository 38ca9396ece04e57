#!/usr/bin/env bash
# flags_tables.sh - every flag of every command, read from the option tables
# (`tickpipe help-flags`), is in the command's --help and in its README
# section; the README documents no flag the command lacks; the README's
# generated tables are up to date (so defaults agree); a flag name has one
# type and unit across commands; every valued flag rejects a bad value with
# exit 2 and its name; deprecated spellings still work, with a warning.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
cmds="run simulate capture produce process serve symbols export archive"

"$TICKPIPE" help-flags >"$TMP/flags.tsv" || fail "help-flags exit $?"
for c in $cmds; do
  [ "$(awk -F'\t' -v c="$c" '$1 == c' "$TMP/flags.tsv" | wc -l)" -ge 2 ] || fail "help-flags lists no flags of $c"
done

python3 - "$TICKPIPE" "$TP_SOURCE_DIR/README.md" "$TMP/flags.tsv" $cmds <<'PY' || fail "flag tables check failed"
import re, subprocess, sys
tickpipe, readme_path, tsv = sys.argv[1:4]
cmds = sys.argv[4:]
readme = open(readme_path).read()
rows = [l.rstrip("\n").split("\t") for l in open(tsv)]
bad = []
kind = {}
for r in rows:
    cmd, flag, short, arg, env, default, unit, typ, alias, group, help_ = r
    kind.setdefault(flag, set()).add((typ, unit))
for flag, k in kind.items():
    if len(k) > 1:
        bad.append(f"{flag} has different types/units across commands: {sorted(k)}")
for cmd in cmds:
    h = subprocess.run([tickpipe, cmd, "--help"], capture_output=True, text=True)
    if h.returncode != 0:
        bad.append(f"{cmd} --help exited {h.returncode}: {h.stderr}")
        continue
    m = re.search(rf"<!-- {cmd}: begin -->(.*?)<!-- {cmd}: end -->", readme, re.S)
    if not m:
        bad.append(f"README has no section for {cmd}")
        continue
    sec = m.group(1)
    t = re.search(rf"<!-- {cmd} flags: begin -->(.*?)<!-- {cmd} flags: end -->", sec, re.S)
    table = t.group(1) if t else ""
    if not t:
        bad.append(f"README section of {cmd} has no flag table")
    mine = [r for r in rows if r[0] == cmd]
    names = {r[1] for r in mine}
    for cmd_, flag, short, arg, env, default, unit, typ, alias, group, help_ in mine:
        if alias:  # hidden from --help; the README says what it was renamed to
            if not re.search(rf"`{re.escape(flag)}\b[^`]*`[^\n]*`--{re.escape(alias)}", readme):
                bad.append(f"README's renamed flags do not list {flag} -> --{alias}")
            continue
        if not re.search(rf"(^|[\s,]){re.escape(flag)}\b", h.stdout, re.M):
            bad.append(f"{cmd} --help lacks {flag}")
        if short and not re.search(rf"(^|\s){re.escape(short)}\b", h.stdout, re.M):
            bad.append(f"{cmd} --help lacks {short}")
        for e in re.split(r",\s*", env) if env else []:
            if e not in h.stdout: bad.append(f"{cmd} --help lacks {e} (of {flag})")
        row = [l for l in table.splitlines() if re.match(rf"\| `({re.escape(short)} [^`]*`, `)?{re.escape(flag)}\b", l)]
        if not row:
            bad.append(f"README table of {cmd} lacks {flag}")
            continue
        for e in re.split(r",\s*", env) if env else []:
            if e not in row[0]: bad.append(f"README row {flag} of {cmd} lacks {e}")
        if default and default not in row[0]:
            bad.append(f"README row {flag} of {cmd} lacks the default {default}")
    for l in table.splitlines():
        f = re.match(r"\| `(-\w [^`]*`, `)?(--[a-z0-9-]+)", l)
        if f and f.group(2) not in names and f.group(2) != "--help":
            bad.append(f"README table of {cmd} documents {f.group(2)}, which {cmd} does not take")
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
ok "--help and README name every flag and variable of every command, and nothing more"

TICKPIPE=$TICKPIPE "$TP_SOURCE_DIR/scripts/readme-flags.sh" --check "$TICKPIPE" || fail "README tables out of date"
ok "README flag tables are the generated ones"

# Every flag that takes a number or a time refuses garbage: exit 2, named.
n=0
# (tabs are IFS whitespace, which would merge empty fields: split on \037)
while IFS=$'\037' read -r cmd flag short arg env default unit typ alias group help; do
  case $typ in integer | number | time) ;; *) continue ;; esac
  [ -z "$alias" ] || continue
  rc=0; "$TICKPIPE" "$cmd" "$flag" 12abc >/dev/null 2>"$TMP/err" || rc=$?
  [ "$rc" = 2 ] || fail "$cmd $flag 12abc: exit $rc, want 2"
  grep -q -- "$flag" "$TMP/err" || fail "$cmd $flag 12abc: error does not name $flag: $(cat "$TMP/err")"
  n=$((n + 1))
done < <(tr '\t' '\037' <"$TMP/flags.tsv")
[ "$n" -ge 30 ] || fail "only $n valued flags checked"
for c in $cmds; do
  rc=0; "$TICKPIPE" "$c" --no-such-flag >/dev/null 2>"$TMP/err" || rc=$?
  [ "$rc" = 2 ] && grep -q "tickpipe $c: unknown option '--no-such-flag'" "$TMP/err" \
    || fail "$c --no-such-flag: exit $rc: $(cat "$TMP/err")"
done
ok "$n valued flags reject a bad value with exit 2; unknown flags exit 2 in every command"

# A time takes a unit suffix; the old produce spelling --progress still works.
rc=0; "$TICKPIPE" produce --progress 1 --help >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" = 0 ] && grep -q -- "--progress is deprecated; use --progress-interval" "$TMP/err" \
  || fail "--progress alias: exit $rc: $(cat "$TMP/err")"
rc=0; "$TICKPIPE" run --emit-interval 1000 --help >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" = 0 ] && grep -q -- "--emit-interval 1000 means 1000 seconds" "$TMP/err" \
  || fail "--emit-interval 1000 not warned about: $(cat "$TMP/err")"
rc=0; "$TICKPIPE" run --emit-interval 250ms --help >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" = 0 ] && ! grep -q "means" "$TMP/err" || fail "--emit-interval 250ms: exit $rc: $(cat "$TMP/err")"
ok "deprecated --progress and the changed unit of --emit-interval are explained"

# An environment variable goes through the same parser as its flag.
rc=0; TICKPIPE_LOG=loud "$TICKPIPE" serve --help >/dev/null 2>"$TMP/err" || rc=$?
[ "$rc" = 2 ] || fail "TICKPIPE_LOG=loud: exit $rc"
ok "a bad environment value is a usage error"
