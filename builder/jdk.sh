# Sourced by ./kiln and ci/test: sets JAVA (a java binary) and JAVA_FEATURE (its feature
# version) to an explicit JAVA_HOME that is JDK 21 or later, else the newest such JDK installed.
# Versions come from each JDK's `release` file, so no JVM is started to choose one.
jdk_feature_version() { # $1 = JDK home; prints e.g. 25, or 0
  # read with bash alone: the launcher runs this at every start, and each sed or head is a process
  local line v=""
  if [ -r "$1/release" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      if [[ $line =~ ^JAVA_VERSION=\"([0-9]+) ]]; then v=${BASH_REMATCH[1]}; break; fi
    done < "$1/release"
  fi
  echo "${v:-0}"
}

pick_java() {
  local best="" best_v=0 v home
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(jdk_feature_version "$JAVA_HOME")
    if [ "$v" -ge 21 ]; then JAVA=$JAVA_HOME/bin/java; JAVA_FEATURE=$v; return 0; fi
  fi
  for home in /usr/lib/jvm/* /opt/java/* /opt/jdk*; do
    [ -x "$home/bin/java" ] && [ ! -L "$home" ] || continue
    v=$(jdk_feature_version "$home")
    if [ "$v" -ge 21 ] && [ "$v" -gt "$best_v" ]; then best=$home/bin/java; best_v=$v; fi
  done
  if [ -z "$best" ]; then
    echo "kiln: no JDK 21 or later found (JAVA_HOME, /usr/lib/jvm): install one (e.g. apt-get install -y openjdk-21-jdk-headless) or set JAVA_HOME" >&2
    exit 3
  fi
  JAVA=$best
  JAVA_FEATURE=$best_v
}
