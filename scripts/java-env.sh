# Sourced by ./duet, ./test.sh and .ci/run: finds a JDK >= 25 and exports JAVA_HOME.
# Order: $DUET_JAVA_HOME, $JAVA_HOME, every JDK under /usr/lib/jvm and /opt, then `java` on PATH.
duet_java_version() { # prints the feature version of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

duet_find_jdk() {
  local c v
  local candidates=("${DUET_JAVA_HOME:-}" "${JAVA_HOME:-}")
  for c in /usr/lib/jvm/* /opt/java/* /opt/jdk*; do candidates+=("$c"); done
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for c in "${candidates[@]}"; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    v=$(duet_java_version "$c/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

if ! DUET_JDK=$(duet_find_jdk); then
  echo "duet: no JDK 25 or newer found (looked at \$DUET_JAVA_HOME, \$JAVA_HOME, /usr/lib/jvm, /opt, PATH)." >&2
  echo "duet: install one (e.g. Temurin 25) or point DUET_JAVA_HOME at it." >&2
  exit 3
fi
export JAVA_HOME="$DUET_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
