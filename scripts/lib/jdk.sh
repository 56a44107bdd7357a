# Finds a JDK 25 or newer (jkvm is compiled for release 25: class files of major version 69, and the
# launcher's AOT cache is JDK 25's); sourced by ./jkvm, ./test and the scripts.
# JAVA_HOME wins if it is new enough; else the JDK under /usr/lib/jvm, 25 preferred, then the newest.

JKVM_JDK_MIN=25

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
  local v best="" bestv=0 d seen=""
  if [ -n "${JAVA_HOME:-}" ] && v=$(jkvm_jdk_version "$JAVA_HOME"); then
    [ "$v" -ge "$JKVM_JDK_MIN" ] && { echo "$JAVA_HOME"; return 0; }
    seen="JAVA_HOME is JDK $v"
  fi
  for d in "${JKVM_JVM_DIR:-/usr/lib/jvm}"/*; do
    [ -d "$d" ] || continue
    v=$(jkvm_jdk_version "$d") || continue
    [ "$v" -ge "$JKVM_JDK_MIN" ] || continue
    if [ "$v" = 25 ] && [ "$bestv" != 25 ]; then best=$d; bestv=$v
    elif [ "$bestv" != 25 ] && [ "$v" -gt "$bestv" ]; then best=$d; bestv=$v
    fi
  done
  if [ -z "$best" ]; then
    echo "jkvm: JDK $JKVM_JDK_MIN or newer needed, none found (${seen:+$seen; }none in ${JKVM_JVM_DIR:-/usr/lib/jvm}): install one (e.g. Eclipse Temurin 25: temurin-25-jdk from Adoptium's apt repository) and set JAVA_HOME to it" >&2
    return 1
  fi
  echo "$best"
}
