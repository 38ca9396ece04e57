#!/usr/bin/env bash
# deploy_compose.sh - the Compose stack (deploy/compose.yaml): Debian's
# `docker-compose config` validates and resolves it for every profile, a
# missing secret in .env stops it with the name of the file to fill, .env is
# ignored by git, and tests/deploy/compose_test.go applies the profile rules
# (services of a profile depend only on services that run with it) and the
# stack's own (two processors in one group per store, health checks on
# /healthz, restart policies, named volumes, secrets only from .env).
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/deploy/lib.sh"
start=$(date +%s)
render_compose "$TMP/compose"
ok "docker-compose config: profiles ${DEPLOY_PROFILES[*]}"
grep -v '^FINNHUB_API_TOKEN=' "$TP_SOURCE_DIR/deploy/.env.example" >"$TMP/no-token.env"
rc=0
docker-compose -f "$TP_SOURCE_DIR/deploy/compose.yaml" --env-file "$TMP/no-token.env" config >/dev/null 2>"$TMP/no-token.err" || rc=$?
[ "$rc" != 0 ] || fail "the stack resolved without FINNHUB_API_TOKEN"
grep -q "put FINNHUB_API_TOKEN in deploy/.env" "$TMP/no-token.err" || fail "no hint to fill .env: $(cat "$TMP/no-token.err")"
ok "without a token in .env the stack refuses to start, naming deploy/.env"
if git -C "$TP_SOURCE_DIR" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$TP_SOURCE_DIR" check-ignore -q deploy/.env || fail "deploy/.env is not ignored by git"
  [ -z "$(git -C "$TP_SOURCE_DIR" ls-files deploy/.env)" ] || fail "deploy/.env is committed"
  ok "deploy/.env is ignored by git and not committed"
fi
DEPLOY_COMPOSE="$TMP/compose" deploy_go_test 'TestCompose'
ok "compose profiles and rules ($(($(date +%s) - start)) s)"
