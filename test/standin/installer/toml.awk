# toml.awk - small TOML-subset reader for answer.toml (busybox awk / gawk / mawk).
# Input: a TOML file. Output (stdout), one record per value, tab separated:
#   PATH <TAB> TYPE <TAB> VALUE <TAB> LINE
# PATH joins table/dotted key parts with "." (quoted key parts keep their text, quotes removed).
# TYPE: str | int | float | bool | arr (string/number elements joined by \037) | table (header or
# implicit table from dotted keys; VALUE empty). Strings are unescaped; a tab or newline inside a
# string is written as \t / \n (the answer schema has no such values).
# On a syntax error or duplicate key it prints one record "!error <TAB> MESSAGE <TAB> LINE <TAB> COL"
# and exits 1. Supported: comments, [tables], dotted and quoted keys, basic/literal strings,
# integers, floats, booleans, (multi-line) arrays, simple inline tables. Not supported ([[arrays]],
# dates, multi-line strings) is reported as an error, which the validator turns into a parse error.

function fail(msg, col) { printf "!error\t%s\t%d\t%d\n", msg, startline, col; failed = 1; exit 1 }
function ws() { while (pos <= length(src) && (substr(src, pos, 1) == " " || substr(src, pos, 1) == "\t" || substr(src, pos, 1) == "\n")) pos++ }
function peek() { return substr(src, pos, 1) }
function esc(s) { gsub(/\\/, "\\\\", s); gsub(/\t/, "\\t", s); gsub(/\n/, "\\n", s); return s }

# parse a basic "..." or literal '...' string at pos; returns the unescaped text
function pstring(   q, out, c, n) {
  q = peek(); pos++; out = ""
  while (pos <= length(src)) {
    c = substr(src, pos, 1)
    if (c == q) { pos++; return out }
    if (c == "\n") break
    if (q == "\"" && c == "\\") {
      n = substr(src, pos + 1, 1); pos += 2
      if (n == "n") out = out "\n"; else if (n == "t") out = out "\t"
      else if (n == "\\" || n == "\"") out = out n
      else if (n == "u") { out = out "?"; pos += 4 }
      else fail("invalid escape sequence", pos)
      continue
    }
    out = out c; pos++
  }
  fail("invalid basic string", pos)
}

# key part: bare [A-Za-z0-9_-]+ or quoted
function pkeypart(   k) {
  ws()
  if (peek() == "\"" || peek() == "'") return pstring()
  k = ""
  while (pos <= length(src) && peek() ~ /[A-Za-z0-9_-]/) { k = k peek(); pos++ }
  if (k == "") fail("invalid key", pos)
  return k
}
function pkey(   k) {
  k = pkeypart(); ws()
  while (peek() == ".") { pos++; k = k "." pkeypart(); ws() }
  return k
}

# declare implicit parent tables of PATH (for dotted keys)
function parents(path, line,   n, parts, i, p) {
  n = split(path, parts, "."); p = ""
  for (i = 1; i < n; i++) {
    p = (p == "" ? parts[i] : p "." parts[i])
    if (p in scalar) fail("duplicate key `" parts[i] "`", 1)
    if (!(p in tbl)) { tbl[p] = 1; implicit[p] = 1; printf "%s\ttable\t\t%d\n", p, line }
  }
}

# parse a value at pos; sets VT (type) and VV (value)
function pvalue(   c, t, items, first, save, ikey, base) {
  ws(); c = peek()
  if (c == "\"" || c == "'") { if (substr(src, pos, 3) == "\"\"\"" || substr(src, pos, 3) == "'''") fail("multi-line strings are not supported", pos); VV = pstring(); VT = "str"; return }
  if (c == "[") {
    pos++; items = ""; first = 1
    while (1) {
      ws(); while (peek() == "#") { while (pos <= length(src) && peek() != "\n") pos++; ws() }
      if (peek() == "]") { pos++; break }
      if (pos > length(src)) fail("unclosed array", pos)
      pvalue(); if (VT == "arr" || VT == "table") fail("nested arrays are not supported", pos)
      items = first ? VV : items "\037" VV; first = 0
      ws(); while (peek() == "#") { while (pos <= length(src) && peek() != "\n") pos++; ws() }
      if (peek() == ",") { pos++; continue }
      if (peek() == "]") { pos++; break }
      fail("expected `,` or `]`", pos)
    }
    VV = items; VT = "arr"; return
  }
  if (c == "{") {
    pos++; base = curkey; ws()
    if (peek() == "}") { pos++; VT = "table"; VV = ""; return }
    while (1) {
      ikey = base "." pkey()
      if (peek() != "=") fail("expected `=`", pos)
      pos++; save = curkey; curkey = ikey; pvalue(); curkey = save
      emit(ikey, VT, VV)
      ws(); if (peek() == ",") { pos++; continue }
      if (peek() == "}") { pos++; break }
      fail("expected `,` or `}`", pos)
    }
    VT = "table"; VV = ""; return
  }
  t = ""
  while (pos <= length(src) && peek() ~ /[A-Za-z0-9_.+:-]/) { t = t peek(); pos++ }
  if (t == "true" || t == "false") { VT = "bool"; VV = t; return }
  if (t ~ /^[+-]?(0|[1-9][0-9_]*)$/) { gsub(/_/, "", t); VT = "int"; VV = t + 0; return }
  if (t ~ /^[+-]?[0-9][0-9_]*(\.[0-9_]+)?([eE][+-]?[0-9]+)?$/) { gsub(/_/, "", t); VT = "float"; VV = t; return }
  fail(t == "" ? "expected a value" : "invalid value `" t "`", pos)
}

function emit(path, t, v) {
  if ((path in scalar) || (path in tbl)) fail("duplicate key `" path "`", 1)
  parents(path, startline)
  if (t == "table") { tbl[path] = 1; printf "%s\ttable\t\t%d\n", path, startline; return }
  scalar[path] = 1
  printf "%s\t%s\t%s\t%d\n", path, t, esc(v), startline
}

function depth(s,   i, c, d, q) {  # bracket depth of s outside strings/comments
  d = 0; q = ""
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (q != "") { if (c == "\\" && q == "\"") { i++; continue } if (c == q) q = ""; continue }
    if (c == "\"" || c == "'") q = c
    else if (c == "#") break
    else if (c == "[" || c == "{") d++
    else if (c == "]" || c == "}") d--
  }
  return d
}

function statement(   k, hdr) {
  pos = 1; ws()
  if (pos > length(src) || peek() == "#") return
  if (substr(src, pos, 2) == "[[") fail("arrays of tables are not supported", pos)
  if (peek() == "[") {
    pos++; k = pkey()
    if (peek() != "]") fail("invalid table header", pos)
    pos++; hdr = 1
    if (k in tbl && !(k in implicit)) fail("duplicate key `" k "`", 1)
    if (k in scalar) fail("duplicate key `" k "`", 1)
    parents(k, startline)
    if (!(k in tbl)) printf "%s\ttable\t\t%d\n", k, startline
    tbl[k] = 1; delete implicit[k]; table = k
  } else {
    k = pkey(); if (table != "") k = table "." k
    if (peek() != "=") fail("expected `=`", pos)
    pos++; curkey = k; pvalue()
    if (VT != "table") emit(k, VT, VV)
    else { if (k in tbl) fail("duplicate key `" k "`", 1); parents(k, startline); tbl[k] = 1; printf "%s\ttable\t\t%d\n", k, startline }
  }
  ws()
  if (pos <= length(src) && peek() != "#") fail("expected newline, found `" peek() "`", pos)
}

BEGIN { table = ""; pending = "" }
{
  sub(/\r$/, "")
  if (pending == "") { src = $0; startline = NR } else src = pending "\n" $0
  if (depth(src) > 0) { pending = src; next }
  pending = ""
  statement()
}
END { if (failed) exit 1; if (pending != "") { src = pending; fail("unclosed array", 1) } }
