# shellcheck shell=bash
# Finds the Debian archive this machine's apt already uses, so image builds download from
# the same mirror (often the only one a CI network lets through). Nothing is hard-coded.

# Suites that name a Debian release (not -updates, -security or a third-party "nodistro").
readonly DEBIAN_RELEASE_SUITES='buster bullseye bookworm trixie forky duke sid
  oldoldstable oldstable stable testing unstable'

# Prints the URI of the main Debian archive found in the apt configuration under an etc
# directory (default /etc/apt): one-line `deb` entries in sources.list and
# sources.list.d/*.list, and deb822 stanzas in sources.list.d/*.sources. The first entry
# of type deb, with a Debian release suite and the `main` component, wins.
# GRIDX_DEBIAN_MIRROR overrides the lookup. Returns 1 when nothing matches.
debian_mirror_url() {
  local apt_etc=${1:-/etc/apt}
  if [[ -n ${GRIDX_DEBIAN_MIRROR:-} ]]; then
    printf '%s\n' "$GRIDX_DEBIAN_MIRROR"
    return 0
  fi
  local suites="$DEBIAN_RELEASE_SUITES"
  if [[ -r /etc/os-release ]]; then
    suites+=" $(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release | tr -d '"')"
  fi
  local files=() file
  [[ -f $apt_etc/sources.list ]] && files+=("$apt_etc/sources.list")
  for file in "$apt_etc"/sources.list.d/*.list "$apt_etc"/sources.list.d/*.sources; do
    [[ -f $file ]] && files+=("$file")
  done
  [[ ${#files[@]} -gt 0 ]] || return 1
  local url
  url=$(awk -v suites="$suites" -f - "${files[@]}" <<'AWK'
BEGIN { split(suites, list, /[ \t\n]+/); for (i in list) if (list[i] != "") release[list[i]] = 1 }
# A URI debootstrap can fetch from (apt-only methods such as cdrom: or mirror+ are skipped).
function fetchable(uri) { return uri ~ /^(https?|file):\// }
function any_release(words,   n, parts, i) {
  n = split(words, parts, /[ \t]+/)
  for (i = 1; i <= n; i++) if (parts[i] in release) return 1
  return 0
}
function has_word(words, word,   n, parts, i) {
  n = split(words, parts, /[ \t]+/)
  for (i = 1; i <= n; i++) if (parts[i] == word) return 1
  return 0
}
function first_word(words,   parts) { split(words, parts, /[ \t]+/); return parts[1] }
function consider(types, uris, suite_words, components, enabled) {
  if (found != "" || enabled == "no") return
  if (!has_word(types, "deb") || !any_release(suite_words) || !has_word(components, "main")) return
  if (fetchable(first_word(uris))) found = first_word(uris)
}
function flush() {
  consider(f["types"], f["uris"], f["suites"], f["components"], f["enabled"]); delete f
}
FNR == 1 { if (NR > 1 && deb822) flush(); deb822 = FILENAME ~ /\.sources$/ }
/^[ \t]*#/ { next }
deb822 && /^[ \t]*$/ { flush(); next }
deb822 && /^[A-Za-z-]+:/ {
  key = tolower(substr($0, 1, index($0, ":") - 1)); value = substr($0, index($0, ":") + 1)
  gsub(/^[ \t]+|[ \t]+$/, "", value); f[key] = value; next
}
deb822 { next }
$1 == "deb" {
  line = $0; sub(/^[ \t]*deb[ \t]+/, "", line)
  # One-line options look like `[arch=amd64 signed-by=...]`.
  if (line ~ /^\[/) sub(/^\[[^]]*\][ \t]*/, "", line)
  n = split(line, w, /[ \t]+/); components = ""
  for (i = 3; i <= n; i++) components = components " " w[i]
  consider("deb", w[1], w[2], components, "yes")
}
END { if (deb822) flush(); if (found != "") print found }
AWK
  ) || return 1
  [[ -n $url ]] || return 1
  printf '%s\n' "${url%/}"
}
