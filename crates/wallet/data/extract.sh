#!/usr/bin/env bash
# Derives the wallet classifier's seed lists from Debian packages (see SOURCES.md).
# Run from anywhere as root or any user with `apt-get download`; writes next to this script.
# The outputs are committed; re-running with the same package versions reproduces them byte
# for byte (LC_ALL=C sort).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download webext-ublock-origin-firefox=1.67.0+dfsg-1~deb12u1 webext-privacy-badger=2020.10.7-1 >/dev/null
for deb in *.deb; do dpkg-deb -x "$deb" root; done
sha256sum *.deb > "$here/packages.sha256"
easyprivacy="$(find root -name easyprivacy.txt | head -n 1)"
easylist="$(find root -name easylist.txt | head -n 1)"
yellowlist="$(find root -path '*privacy-badger/data/yellowlist.txt' | head -n 1)"
export LC_ALL=C

# 1. Host rules: `||host^` with no path, not an exception, not restricted to some sites.
grep -E '^\|\|[a-z0-9.-]+\^(\$.*)?$' "$easyprivacy" \
  | grep -v 'domain=' \
  | sed -E 's/^\|\|([a-z0-9.-]+)\^.*$/\1/' \
  | grep -E '^[a-z0-9-]+(\.[a-z0-9-]+)+$' \
  | sort -u > "$here/easyprivacy_hosts.txt"

# 1b. The same host rules from EasyList (advertising), which the rubric also counts as commercial.
grep -E '^\|\|[a-z0-9.-]+\^(\$.*)?$' "$easylist" \
  | grep -v 'domain=' \
  | sed -E 's/^\|\|([a-z0-9.-]+)\^.*$/\1/' \
  | grep -E '^[a-z0-9-]+(\.[a-z0-9-]+)+$' \
  | sort -u > "$here/easylist_hosts.txt"

# 1c. EasyPrivacy's host-and-path rules (`||facebook.com/tr/`): host, a tab, the literal path
#     prefix up to the first wildcard or separator.
grep -E '^\|\|[a-z0-9.-]+/' "$easyprivacy" \
  | grep -v 'domain=' \
  | sed -E 's/^\|\|([a-z0-9.-]+)(\/[^*^$|?]*).*$/\1\t\2/' \
  | grep -P '^[a-z0-9-]+(\.[a-z0-9-]+)+\t/' \
  | sort -u > "$here/easyprivacy_host_paths.txt"

# 2. Path words: lower-case words of 3+ letters in generic (host-less) rules, kept when at
#    least 8 rules use them. Words, not rules: the classifier uses them as hashed features.
grep -E '^[/&?._-]' "$easyprivacy" \
  | sed -E 's/\$.*$//' \
  | tr 'A-Z' 'a-z' \
  | grep -oE '[a-z]{3,}' \
  | sort | uniq -c | awk '$1 >= 8 { print $2 }' \
  | sort -u > "$here/easyprivacy_path_words.txt"

# 2b. EasyPrivacy's generic (host-less) blocking rules, matched against the whole URL: the
#     pattern (lower case; `*` any run, `^` a separator), a tab, and `third` / `first` when the
#     rule is limited to third- / first-party requests, else `any`. Rules limited to some sites
#     (`domain=` with a site that is not negated), with `|` anchors, regular expressions or
#     `$match-case` are left out; `domain=~a|~b` exclusions are dropped (kept as `any`).
grep -E '^([/&?._=-]|:)' "$easyprivacy" \
  | awk '{
      pattern = $0; options = ""
      at = index($0, "$")
      if (at > 0) { pattern = substr($0, 1, at - 1); options = substr($0, at + 1) }
      if (pattern ~ /\|/ || options ~ /match-case/) next
      if (match(options, /domain=[^,]*/)) {
        n = split(substr(options, RSTART + 7, RLENGTH - 7), sites, "|")
        for (i = 1; i <= n; i++) if (substr(sites[i], 1, 1) != "~") next
      }
      party = "any"
      if (options ~ /(^|,)~third-party/) party = "first"
      else if (options ~ /(^|,)third-party/) party = "third"
      if (length(pattern) >= 4) print tolower(pattern) "\t" party
    }' \
  | sort -u > "$here/easyprivacy_generic.txt"

# 2c. The Public Suffix List the uBlock Origin package ships (registrable domains): rules only,
#     in the list's order, comments dropped except the ICANN / PRIVATE section markers.
psl="$(find root -name effective_tld_names.dat | head -n 1)"
awk '/^\/\/ ===BEGIN PRIVATE DOMAINS===/ { print "// ===BEGIN PRIVATE DOMAINS===" }
     /^\/\/ ===END PRIVATE DOMAINS===/ { print "// ===END PRIVATE DOMAINS===" }
     /^\/\/ ===BEGIN ICANN DOMAINS===/ { print "// ===BEGIN ICANN DOMAINS===" }
     /^\/\/ ===END ICANN DOMAINS===/ { print "// ===END ICANN DOMAINS===" }
     /^[^\/ ]/ { sub(/[ \t].*$/, ""); print }' "$psl" > "$here/public_suffix_list.dat"

# 3. Privacy Badger's yellowlist: domains sites need to work (cookies blocked, requests kept).
grep -E '^[a-z0-9.-]+$' "$yellowlist" | sort -u > "$here/yellowlist.txt"

# 3b. Privacy Badger's pre-trained seed (`data/seed.json`): what its own heuristic learned by
#     visiting popular sites. Domain, a tab, its action (`block`: seen tracking on 3+ sites;
#     `cookieblock`: the same but on the yellowlist; `allow`: seen on fewer), a tab, how many
#     sites it was seen tracking on. Domains never seen tracking are left out.
seed="$(find root -path '*privacy-badger/data/seed.json' | head -n 1)"
python3 - "$seed" > "$here/badger_seed.txt" <<'PY'
import json, sys
seed = json.load(open(sys.argv[1]))
actions, snitches = seed["action_map"], seed["snitch_map"]
for domain in sorted(set(actions) | set(snitches)):
    action = actions.get(domain, {}).get("heuristicAction", "") or "allow"
    sites = len(snitches.get(domain, []))
    if action in ("block", "cookieblock") or sites > 0:
        print(f"{domain}\t{action}\t{sites}")
PY
wc -l "$here"/easyprivacy_hosts.txt "$here"/easylist_hosts.txt "$here"/easyprivacy_host_paths.txt "$here"/easyprivacy_path_words.txt "$here"/easyprivacy_generic.txt "$here"/public_suffix_list.dat "$here"/yellowlist.txt "$here"/badger_seed.txt
