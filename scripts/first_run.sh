# Sourced by scripts/serve: what a first start needs and a later start must keep.
# POSIX sh; run from the repository root with .venv installed.

# pufa_random PREFIX BYTES: PREFIX then BYTES random bytes, URL-safe (never parsed as JSON).
pufa_random() {
  .venv/bin/python -c 'import secrets, sys; print(sys.argv[1] + secrets.token_urlsafe(int(sys.argv[2])))' "$1" "$2"
}

# The staff console needs a session key other than the public default, and residents are
# stored under a key derived from it: unless one is set, make one up once and keep it in
# instance/config.py (readable by its owner alone), so a restart keeps residents and sign-ins.
pufa_session_key() {
  if [ -n "${PUFA_SECRET_KEY:-}" ] || grep -qs '^SECRET_KEY' instance/config.py; then
    return 0
  fi
  mkdir -p instance
  (
    umask 077
    printf '# Made by scripts/serve on %s; keep it private and keep it: it signs staff sessions\n# and keys the stored residents.\nSECRET_KEY = "%s"\n' \
      "$(date -u '+%Y-%m-%d')" "$(pufa_random dev- 32)" >>instance/config.py
  )
  chmod 600 instance/config.py
  echo "Made a session key and kept it in instance/config.py."
}

# A demo admin account with a made-up password, the first time (there is no default
# account); sets console_account to the line the banner shows.
pufa_demo_admin() {
  demo_admin=demo-admin
  if .venv/bin/flask --app wsgi users list 2>/dev/null | cut -f1 | grep -qx "$demo_admin"; then
    console_account="$demo_admin with the password printed when it was made
                (forgot it? .venv/bin/flask --app wsgi users set-password $demo_admin)"
    return 0
  fi
  demo_password=$(pufa_random pufa- 9)
  printf '%s\n' "$demo_password" |
    .venv/bin/flask --app wsgi users create "$demo_admin" --role admin --password-file - --by scripts/serve >/dev/null
  console_account="$demo_admin / $demo_password   (made up now; change it at /admin/users)"
}
