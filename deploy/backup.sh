#!/bin/sh
# Back up duijie's PostgreSQL database: one custom-format dump a day in DUIJIE_BACKUP_DIR,
# written to a .part file and renamed when complete; dumps older than DUIJIE_BACKUP_KEEP_DAYS
# are removed. Installed as /usr/local/bin/duijie-backup (systemd timer, compose scheduler).
# Restore: see docs/operations.md.
set -eu
: "${DUIJIE_DATABASE_URL:?set DUIJIE_DATABASE_URL}"
dir="${DUIJIE_BACKUP_DIR:-/var/backups/duijie}"
keep="${DUIJIE_BACKUP_KEEP_DAYS:-30}"
mkdir -p "$dir"
file="$dir/duijie-$(date -u +%Y-%m-%dT%H%M%SZ).dump"
# pg_dump wants a plain libpq URL, not SQLAlchemy's driver suffix.
url=$(printf '%s' "$DUIJIE_DATABASE_URL" | sed 's#^postgresql+psycopg://#postgresql://#')
pg_dump -Fc --dbname="$url" --file="$file.part"
mv "$file.part" "$file"
find "$dir" -name 'duijie-*.dump' -mtime "+$keep" -delete
echo "{\"backup\": \"$file\", \"bytes\": $(wc -c < "$file")}"
