"""The HTML report (`make docs`) read in a real browser: headless Chromium loads the front page and a
chapter, and we check that every image loads, no internal link is broken, and the results table is
there. A screenshot of each page is kept under runs/docs-check/."""
import json
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKER = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => (i.getAttribute('src') || '').slice(0, 60));
  const heads = [...document.querySelectorAll('table th')].map(t => t.textContent.trim());
  const out = document.createElement('pre'); out.id = 'report-check';
  out.textContent = JSON.stringify({images: imgs.length, broken: broken, tables: document.querySelectorAll('table').length, heads: heads});
  document.body.appendChild(out);
});
</script>"""


def chromium() -> str:
    exe = shutil.which('chromium') or shutil.which('chromium-browser')
    assert exe, "Chromium is not installed: scripts/test.sh installs Debian's `chromium` package when missing"
    return exe


def browser(*args, timeout=120) -> str:
    profile = tempfile.mkdtemp()
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', f'--user-data-dir={profile}', '--virtual-time-budget=10000']
    try: return subprocess.run([chromium(), *flags, *args], capture_output=True, text=True, timeout=timeout).stdout
    finally: shutil.rmtree(profile, ignore_errors=True)


class Links(HTMLParser):
    "Collects hrefs and element ids of a page."
    def __init__(self):
        super().__init__(); self.hrefs, self.ids = [], set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'a' and a.get('href'): self.hrefs.append(a['href'])


@pytest.fixture(scope='module')
def site(module_tmp):
    out = module_tmp
    subprocess.run([sys.executable, str(ROOT/'scripts'/'render.py'), 'docs', '--out', str(out)], check=True, cwd=ROOT, timeout=600)
    return out


def page_check(site: Path, name: str) -> dict:
    "Load `name`.html in headless Chromium with a checker script; save a screenshot; return what the checker saw."
    page = site/f'{name}.html'
    probe = site/f'_check_{name}.html'
    probe.write_text(page.read_text().replace('</body>', CHECKER + '</body>'))
    dom = browser('--dump-dom', probe.as_uri())
    m = re.search(r'<pre id="report-check">(.*?)</pre>', dom, re.S)
    assert m, f'the checker did not run in Chromium on {name}.html'
    shots = ROOT/'runs'/'docs-check'; shots.mkdir(parents=True, exist_ok=True)
    browser(f'--screenshot={shots/(name + ".png")}', '--window-size=1280,1600', '--hide-scrollbars', page.as_uri())
    assert (shots/f'{name}.png').stat().st_size > 10_000, 'the screenshot is empty'
    return json.loads(m.group(1).replace('&quot;', '"').replace('&amp;', '&'))


@pytest.mark.parametrize('name', ['index', '02_statistics'])
def test_page_renders_in_chromium(site, name):
    seen = page_check(site, name)
    assert seen['broken'] == [], f'images that did not load in {name}.html: {seen["broken"]}'
    assert seen['images'] >= 1, f'{name}.html shows no figure'


def test_index_shows_results_table(site):
    seen = page_check(site, 'index')
    assert any('top-1' in h.lower() for h in seen['heads']), f'no results table (a "top-1" column) on the front page: {seen["heads"][:10]}'


def test_no_broken_internal_links(site):
    pages = {p.name: p for p in site.glob('*.html') if not p.name.startswith('_check')}
    parsed = {}
    for name, p in pages.items():
        parsed[name] = Links(); parsed[name].feed(p.read_text())
    broken = []
    for name, links in parsed.items():
        for href in links.hrefs:
            if re.match(r'(https?:|mailto:|data:)', href): continue
            target, _, anchor = href.partition('#')
            target = target or name
            if target not in pages: broken.append(f'{name} -> {href}')
            elif anchor and anchor not in parsed[target].ids: broken.append(f'{name} -> {href} (no such anchor)')
    assert not broken, f'broken internal links: {broken[:10]}'


def test_pages_need_no_network(site):
    for p in site.glob('*.html'):
        assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', p.read_text()), f'{p.name} loads something from the network'
