package integration_test

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/certs"
)

// Headless Chromium (Debian package chromium) loads a page from our
// http3.Server, and the page fetches a 5 MB file and writes its length
// and SHA-256, computed by the browser, into the DOM that --dump-dom
// prints. The server checks that every request came as HTTP/3.0.

// chromiumPage is the page: it fetches the payload at %[1]s, expected to
// be %[2]d bytes.
const chromiumPage = `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>tsumugi over HTTP/3</title></head>
<body>
<p id="page">page loaded</p>
<p id="result">pending</p>
<script>
const out = document.getElementById("result");
fetch("%[1]s")
	.then(r => { if (!r.ok) throw new Error("status " + r.status); return r.arrayBuffer(); })
	.then(b => crypto.subtle.digest("SHA-256", b).then(d => {
		const hex = Array.from(new Uint8Array(d), x => x.toString(16).padStart(2, "0")).join("");
		out.textContent = "length=" + b.byteLength + " sha256=" + hex;
	}))
	.catch(e => { out.textContent = "error: " + e; });
</script>
</body>
</html>
`

// chromiumBinary finds Chromium under the names distributions use.
func chromiumBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("chromium-browser"); err == nil {
		return h3Binary(t, "chromium-browser", "chromium")
	}
	return h3Binary(t, "chromium", "chromium")
}

func TestH3Chromium(t *testing.T) {
	bin := chromiumBinary(t)
	cert, _, err := certs.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	const size, seed = h3Large, 7
	big := h3Path(size, seed)
	h := &h3PayloadHandler{extra: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r) // /favicon.ico
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, chromiumPage, big, size)
	})}
	addr := startOurH3Server(t, cert, h)

	dir := t.TempDir()
	profile := filepath.Join(dir, "profile")
	home := filepath.Join(dir, "home")
	for _, d := range []string{profile, home} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
	}
	p := startPeer(t, dir, env, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile,
		"--enable-quic",
		"--origin-to-force-quic-on="+addr,
		"--ignore-certificate-errors-spki-list="+certs.SPKIHash(cert.Leaf),
		// --dump-dom prints the DOM once the page has loaded; virtual time
		// does not run out while requests are in flight, so the budget
		// lets the fetch finish first.
		"--virtual-time-budget=60000",
		"--dump-dom", "https://"+addr+"/")
	if !p.wait(120 * time.Second) {
		t.Fatal("chromium still running after 120 s")
	}
	dom := p.out.String()
	if !strings.Contains(dom, `<p id="page">page loaded</p>`) {
		t.Fatalf("the page did not load; output:\n%s", tail(dom, 4000))
	}
	sum := payloadSum(size, seed)
	want := fmt.Sprintf("length=%d sha256=%s", size, hex.EncodeToString(sum[:]))
	m := regexp.MustCompile(`<p id="result">([^<]*)</p>`).FindStringSubmatch(dom)
	if m == nil || m[1] != want {
		t.Fatalf("result %q, want %q", m, want)
	}
	for _, path := range []string{"/", big} {
		if proto := h.proto(path); proto != "HTTP/3.0" {
			t.Errorf("%s came as %q, want HTTP/3.0", path, proto)
		}
	}
}
