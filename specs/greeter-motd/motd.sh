# Greets at login (greeter-motd).
command -v greeter >/dev/null 2>&1 && greeter "${USER:-there}"
