#!/bin/sh
# The scheduler of the compose stack: what the systemd timers do on a plain install.
#   every minute   duijie send-mail          (the outbox; only when DUIJIE_SMTP_URL is set)
#   every hour     duijie prune              (throttle events, idempotency records, ...)
#   every day 02:00  duijie-backup (deploy/backup.sh: pg_dump, old dumps removed)
#   every day 03:00  duijie audit verify     (the hash chain; a break exits non-zero, logged)
# One loop, one process: a job that fails is logged and tried again at its next turn.
set -u

run() {
  echo "{\"scheduler\": \"$1\", \"at\": \"$(date -u +%FT%TZ)\"}"
  shift
  "$@" || echo "{\"scheduler\": \"failed\", \"status\": $?, \"at\": \"$(date -u +%FT%TZ)\"}"
}

last_hour="" last_backup="" last_verify=""
while :; do
  if [ -n "${DUIJIE_SMTP_URL:-}" ]; then run send-mail duijie send-mail; fi
  hour=$(date -u +%F-%H)
  if [ "$hour" != "$last_hour" ]; then run prune duijie prune; last_hour=$hour; fi
  day=$(date -u +%F)
  if [ "$(date -u +%H)" -ge 2 ] && [ "$day" != "$last_backup" ]; then run backup duijie-backup; last_backup=$day; fi
  if [ "$(date -u +%H)" -ge 3 ] && [ "$day" != "$last_verify" ]; then run audit-verify duijie audit verify; last_verify=$day; fi
  sleep 60
done
