# Finds a JDK >= 22 (FFM is final there); sourced by ./jkvm, ./test and the scripts.
# JAVA_HOME wins if it is new enough; else the newest JDK under /usr/lib/jvm, 25 preferred.

jkvm_jdk_version() { # prints the feature version of the JDK at $1, or nothing
  local release="$1/release" v
  [ -x "$1/bin/java" ] || return 1
  if [ -f "$release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
  fi
  [ -n "$v" ] && echo "$v"
}

jkvm_find_jdk() { # prints the JDK home to use, or a one-line error on stderr and returns 1
  local v best="" bestv=0 d
  if [ -n "${JAVA_HOME:-}" ] && v=$(jkvm_jdk_version "$JAVA_HOME") && [ "$v" -ge 22 ]; then
    echo "$JAVA_HOME"; return 0
  fi
  for d in /usr/lib/jvm/*; do
    [ -d "$d" ] || continue
    v=$(jkvm_jdk_version "$d") || continue
    [ "$v" -ge 22 ] || continue
    # 25 is what jkvm is built and tested with; otherwise the newest wins.
    if [ "$v" = 25 ] && [ "$bestv" != 25 ]; then best=$d; bestv=$v
    elif [ "$bestv" != 25 ] && [ "$v" -gt "$bestv" ]; then best=$d; bestv=$v
    fi
  done
  if [ -z "$best" ]; then
    echo "jkvm: no JDK 22 or newer found (JAVA_HOME or /usr/lib/jvm): install one, e.g. Temurin 25 (apt-get install temurin-25-jdk)" >&2
    return 1
  fi
  echo "$best"
}
