# libgreet: shell functions for greetings, sourced by other tools.
greet() {
  printf '%s, %s!\n' "${GREETING:-Hello}" "${1:-world}"
}
