#!/bin/sh
# Extracts this feature's strings (transparency/, templates/transparency/, ledger/labels.py) into
# transparency/locale, fills them from zh_Hans.json and compiles. Run from the repository root.
set -e
tmp=$(mktemp -d)
mkdir -p "$tmp/locale" "$tmp/templates" "$tmp/ledger"
cp -r transparency "$tmp/" && cp -r templates/transparency "$tmp/templates/" && cp ledger/labels.py "$tmp/ledger/" && mkdir -p "$tmp/templates/land_registry" && cp templates/land_registry/_timeline.html "$tmp/templates/land_registry/"
(cd "$tmp" && "$OLDPWD/.venv/bin/django-admin" makemessages -l zh_Hans --no-location >/dev/null)
cp "$tmp/locale/zh_Hans/LC_MESSAGES/django.po" transparency/locale/zh_Hans/LC_MESSAGES/django.po
rm -rf "$tmp"
.venv/bin/python scripts/fill_po.py transparency/locale/zh_Hans/LC_MESSAGES/django.po transparency/locale/zh_Hans.json
(cd transparency && ../.venv/bin/django-admin compilemessages >/dev/null)
