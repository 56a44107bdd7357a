# Debian packages some tests use, installed on first use (as root, where apt-get works): the
# ACPICA tools that check jkvm's ACPI tables, gdb for the GDB stub's tests, headless Chromium
# that renders the -exit-trace timeline page, QEMU (whose QMP replies the QMP tests compare jkvm's
# with) and socat (a QMP client as people use one). Sourced by ./test; a package that cannot be
# installed is named in one line, and the tests that need it say they did not run.
jkvm_test_deps() {
  local missing=()
  command -v iasl >/dev/null || missing+=(acpica-tools)
  command -v gdb >/dev/null || missing+=(gdb)
  command -v chromium >/dev/null || missing+=(chromium)
  command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  command -v socat >/dev/null || missing+=(socat)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test: installing ${missing[*]} (Debian packages the tests use)" >&2
    if ! { apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || \
           { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; }; }; then
      echo "test: could not install ${missing[*]}: the tests that need them will say so" >&2
    fi
  else
    echo "test: ${missing[*]} missing and not installable here (needs root and apt-get): the tests that need them will say so" >&2
  fi
}
