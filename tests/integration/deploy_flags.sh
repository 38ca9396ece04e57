#!/usr/bin/env bash
# deploy_flags.sh - every tickpipe flag and environment variable that the
# Dockerfile, the Compose stack and the rendered Helm chart use is in
# `tickpipe <command> --help` of the command they start, and every health
# endpoint they probe answers 200 on a real `tickpipe serve` (SQLite, a free
# loopback port). Reads the deploy files as resolved and rendered, so a flag
# renamed in the code fails here (tests/deploy/flags_test.go).
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/deploy/lib.sh"
start=$(date +%s)
render_compose "$TMP/compose" once
helm_bin
render_chart "$TMP/chart"
DEPLOY_COMPOSE="$TMP/compose" DEPLOY_MANIFESTS="$TMP/chart" deploy_go_test 'TestFlags|TestFlagCheckCatches|TestProbeEndpoints|TestImageConsistency'
ok "flags, environment variables and probe endpoints of the deploy files exist ($(($(date +%s) - start)) s)"
