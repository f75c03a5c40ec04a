#!/bin/sh
# book/check-book.sh: checks the built book in a real browser (headless Chromium).
#
#   sh book/check-book.sh           check every page of $BOOK_OUT (make check-book)
#   sh book/check-book.sh --shots   screenshots into $BOOK_OUT/shots/ (make book-shots)
#
# How: a checker page, written to a fresh temporary directory, holds every page
# of the book in an iframe (same origin thanks to --allow-file-access-from-files).
# Its script runs once all frames and their images have loaded and looks, in
# each page, for:
#   - a broken image: not loaded, zero natural size, or laid out at zero size;
#   - a stylesheet that did not load;
#   - a broken internal link: an href to a file that is not in the book, or to
#     a #anchor that the target page does not have;
#   - math that did not render: a <math> element of zero size or not laid out
#     as MathML, a pandoc fallback span with raw TeX, or '$...$' / \frac-like
#     TeX left in the text outside code.
# Chromium prints the checker's DOM (--dump-dom); the report is read from it.
# No network, no JavaScript in the book itself, nothing downloaded.
set -eu

: "${BOOK_OUT:=build/book}"
: "${CHROMIUM:=chromium}"

if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "check-book: installing chromium (Debian package)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || {
            apt-get update -qq >/dev/null 2>&1 &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; } || {
            echo "check-book: could not install chromium; run: apt-get update && apt-get install -y chromium" >&2; exit 1; }
    else
        echo "check-book: chromium is missing; run (as root): apt-get install -y chromium" >&2
        exit 1
    fi
fi

[ -f "$BOOK_OUT/index.html" ] || { echo "check-book: $BOOK_OUT/index.html is missing: run 'make book' first" >&2; exit 1; }

book_abs=$(cd "$BOOK_OUT" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-book.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

chrome() {
    # $1: fresh profile dir name; rest: arguments
    prof="$tmp/profile-$1"; shift
    mkdir -p "$prof"
    timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-extensions --disable-default-apps --hide-scrollbars --mute-audio \
        --user-data-dir="$prof" "$@" 2> "$tmp/chromium-$(basename "$prof").log"
}

# ------------------------------------------------------------------ screenshots
if [ "${1:-}" = "--shots" ]; then
    shots="$BOOK_OUT/shots"
    mkdir -p "$shots"
    chapter=$(cd "$book_abs" && ls [0-9][0-9]-*.html 2>/dev/null | head -n 1 || true)
    [ -n "$chapter" ] || chapter=$(cd "$book_abs" && ls appendix-*.html | head -n 1)
    for spec in "index.html laptop 1280,900" "index.html phone 390,844" \
                "$chapter laptop 1280,900" "$chapter phone 390,844"; do
        set -- $spec
        out="$shots/${1%.html}-$2.png"
        scale=1; [ "$2" = phone ] && scale=2
        chrome "shot-$2-${1%.html}" --screenshot="$out" --window-size="$3" \
            --force-device-scale-factor=$scale --allow-file-access-from-files "file://$book_abs/$1" >/dev/null || true
        if [ -s "$out" ]; then echo "check-book: $out"; else echo "check-book: screenshot of $1 failed" >&2; exit 1; fi
    done
    exit 0
fi

# ------------------------------------------------------------------ the checker page
pages=$(cd "$book_abs" && ls *.html)
files=$(cd "$book_abs" && find . -type f ! -path './md/*' ! -path './shots/*' | sed 's|^\./||' | sort)

{
    cat <<'EOF'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>check-book</title>
<style>iframe { width: 1000px; height: 700px; border: 0; display: block; }</style>
</head><body>
<pre id="report">PENDING</pre>
EOF
    for p in $pages; do
        printf '<iframe data-page="%s" src="file://%s/%s"></iframe>\n' "$p" "$book_abs" "$p"
    done
    printf '<script>\nconst FILES = new Set([\n'
    for f in $files; do printf '"%s",\n' "$f"; done
    cat <<'EOF'
]);
function describe(el) {
  let s = '<' + el.tagName.toLowerCase();
  for (const a of ['id', 'class', 'src', 'href', 'data-cell']) {
    const v = el.getAttribute && el.getAttribute(a);
    if (v) s += ' ' + a + '="' + v + '"';
  }
  return s + '>';
}
function snippet(t) { t = t.replace(/\s+/g, ' ').trim(); return t.length > 80 ? t.slice(0, 77) + '...' : t; }
function check() {
  const fails = [], notes = [];
  const docs = {};
  for (const fr of document.querySelectorAll('iframe')) {
    const page = fr.dataset.page;
    let d = null;
    try { d = fr.contentDocument; } catch (e) { fails.push(page + ': cannot inspect the page (' + e + ')'); continue; }
    if (!d || !d.body || !d.body.childElementCount) { fails.push(page + ': the page did not load'); continue; }
    docs[page] = d;
  }
  let n_img = 0, n_link = 0, n_math = 0, n_ext = 0;
  for (const [page, d] of Object.entries(docs)) {
    const fail = (el, what) => fails.push(page + ': ' + what + ': ' + (el ? describe(el) : ''));
    for (const l of d.querySelectorAll('link[rel="stylesheet"]')) {
      let ok = false;
      try { ok = !!(l.sheet && l.sheet.cssRules.length); } catch (e) { ok = false; }
      if (!ok) fail(l, 'stylesheet did not load');
    }
    for (const img of d.querySelectorAll('img')) {
      n_img++;
      const r = img.getBoundingClientRect();
      if (!img.complete || img.naturalWidth === 0 || img.naturalHeight === 0) fail(img, 'broken image');
      else if (r.width < 1 || r.height < 1) fail(img, 'image laid out at zero size');
    }
    for (const a of d.querySelectorAll('a[href]')) {
      const href = a.getAttribute('href');
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) {
        if (/^(https?|mailto):/i.test(href)) { n_ext++; continue; }
        fail(a, 'link with a scheme the book should not use'); continue;
      }
      n_link++;
      const hashAt = href.indexOf('#');
      let path = hashAt < 0 ? href : href.slice(0, hashAt);
      const hash = hashAt < 0 ? '' : decodeURIComponent(href.slice(hashAt + 1));
      path = path.replace(/^\.\//, '');
      const target = path === '' ? page : decodeURIComponent(path);
      if (!FILES.has(target)) { fail(a, 'link to a missing page or file "' + target + '"'); continue; }
      if (hash) {
        const td = docs[target];
        if (!td) { if (/\.html$/.test(target)) fail(a, 'link into a page that did not load'); continue; }
        if (!td.getElementById(hash) && !td.getElementsByName(hash).length)
          fail(a, 'link to a missing anchor #' + hash + ' in ' + target);
      }
    }
    for (const m of d.querySelectorAll('math')) {
      n_math++;
      const r = m.getBoundingClientRect();
      const disp = getComputedStyle(m).display;
      const tex = m.querySelector('annotation') ? m.querySelector('annotation').textContent : '';
      if (r.width < 1 || r.height < 1) fail(m, 'math of zero size (' + snippet(tex) + ')');
      else if (!/math/.test(disp)) fail(m, 'math not laid out as MathML, display ' + disp + ' (' + snippet(tex) + ')');
    }
    for (const s of d.querySelectorAll('.math')) {
      if (!s.querySelector('math')) fail(s, 'math left as raw TeX: ' + snippet(s.textContent));
    }
    const walker = d.createTreeWalker(d.body, NodeFilter.SHOW_TEXT, {
      acceptNode(n) {
        for (let p = n.parentElement; p; p = p.parentElement)
          if (/^(pre|code|math|script|style|kbd|samp|annotation)$/i.test(p.localName)) return NodeFilter.FILTER_REJECT;
        return NodeFilter.FILTER_ACCEPT;
      }
    });
    for (let n; (n = walker.nextNode());) {
      const t = n.textContent;
      if (/\$[^$\s][^$]*\$/.test(t) || /\$\$/.test(t) || /\\(frac|sum|prod|mathcal|mathbb|mathrm|sigma|theta|mu|epsilon|log|sqrt|left|right|begin|end)\b/.test(t))
        fail(n.parentElement, 'raw TeX in the text: "' + snippet(t) + '"');
    }
  }
  const pages = Object.keys(docs).length;
  notes.push('checked ' + pages + ' pages: ' + n_img + ' images, ' + n_link + ' internal links, ' +
             n_math + ' math elements (' + n_ext + ' external links not followed)');
  document.getElementById('report').textContent =
    fails.map(f => 'FAIL ' + f).join('\n') + (fails.length ? '\n' : '') + 'NOTE ' + notes.join('\nNOTE ') + '\nDONE';
}
window.addEventListener('load', () => setTimeout(check, 50));
</script>
</body></html>
EOF
} > "$tmp/check.html"

chrome check --allow-file-access-from-files --virtual-time-budget=20000 \
    --dump-dom "file://$tmp/check.html" > "$tmp/dom.html" || true

# The report, unescaped.
sed -n '/<pre id="report">/,/<\/pre>/p' "$tmp/dom.html" |
    sed 's/<pre id="report">//; s/<\/pre>.*//; s/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&#39;/'"'"'/g; s/&amp;/\&/g' > "$tmp/report.txt"

if ! grep -q '^DONE' "$tmp/report.txt"; then
    echo "check-book: the checker did not finish in Chromium; its log:" >&2
    tail -n 20 "$tmp"/chromium-*.log >&2 || true
    head -c 2000 "$tmp/dom.html" >&2 || true
    exit 1
fi
grep '^NOTE' "$tmp/report.txt" | sed 's/^NOTE /check-book: /'
if grep -q '^FAIL' "$tmp/report.txt"; then
    n=$(grep -c '^FAIL' "$tmp/report.txt")
    echo "check-book: $n problem(s) in $BOOK_OUT:" >&2
    grep '^FAIL' "$tmp/report.txt" | sed 's/^FAIL /  - /' >&2
    exit 1
fi
echo "check-book: OK"
